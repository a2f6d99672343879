#include "core/announce.h"

namespace swarm::core {

std::string_view AnnounceEventName(AnnounceEvent e) {
  switch (e) {
    case AnnounceEvent::kNone: return "none";
    case AnnounceEvent::kStarted: return "started";
    case AnnounceEvent::kCompleted: return "completed";
    case AnnounceEvent::kStopped: return "stopped";
  }
  return "unknown";
}

}  // namespace swarm::core

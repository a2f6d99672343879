#include "net-real/listening_server.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <sys/socket.h>
#include <unistd.h>

namespace swarm::net {

void SetListenerOptions(grpc::ServerBuilder& builder, int idle_connection_ms,
                        int handshake_timeout_ms) {
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, handshake_timeout_ms);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, idle_connection_ms);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kServerMinPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, kServerMaxPingStrikes);
}

ListeningServer::ListeningServer() = default;
ListeningServer::ListeningServer(ListeningServer&&) noexcept = default;
ListeningServer& ListeningServer::operator=(ListeningServer&&) noexcept = default;
ListeningServer::~ListeningServer() = default;

void ListeningServer::Shutdown(std::chrono::system_clock::time_point deadline) {
  // First: gRPC neither serves nor closes a descriptor handed to it once
  // its shutdown has begun.
  accept->Stop();
  server->Shutdown(deadline);
}

std::optional<ListeningServer> StartListening(const std::string& listen, grpc::Service* service,
                                              int max_message_bytes, const char* quota_name,
                                              size_t quota_bytes, int* port, std::string* error,
                                              grpc::CallbackGenericService* generic,
                                              int idle_connection_ms,
                                              int handshake_timeout_ms) {
  ListeningServer s;
  s.accept = AcceptLoop::Listen(listen, error);
  if (!s.accept) return std::nullopt;
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor =
      builder.experimental().AddExternalConnectionAcceptor(
          grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
          grpc::InsecureServerCredentials());
  SetListenerOptions(builder, idle_connection_ms, handshake_timeout_ms);
  builder.SetMaxReceiveMessageSize(max_message_bytes);
  builder.SetMaxSendMessageSize(max_message_bytes);
  // The builder and the server take their own references on the quota.
  grpc::ResourceQuota quota(quota_name);
  quota.Resize(quota_bytes);
  builder.SetResourceQuota(quota);
  if (service) builder.RegisterService(service);
  if (generic) builder.RegisterCallbackGenericService(generic);
  s.server = builder.BuildAndStart();
  if (!s.server) {
    *error = "cannot listen on " + listen + ": gRPC could not start a server";
    return std::nullopt;
  }
  *port = s.accept->port();
  s.accept->Start([acceptor](int fd, int listener_fd) {
    // gRPC asks for the peer's address first and logs an error line when
    // that fails: a connection reset before it was handed on would cost a
    // line each.
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) {
      ::close(fd);
      return;
    }
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters p;
    p.listener_fd = listener_fd;
    p.fd = fd;
    acceptor->HandleNewConnection(&p);  // gRPC owns fd from here on
  });
  return s;
}

}  // namespace swarm::net

#pragma once
// The TLS server context of the agent API.
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace x2gojump {

// A TLS 1.2+ server context presenting the PEM certificate chain in cert_file with the private
// key in key_file. Throws std::runtime_error naming the file when either cannot be loaded or
// they do not belong together.
std::unique_ptr<boost::asio::ssl::context> make_tls_server_context(const std::string& cert_file,
                                                                   const std::string& key_file);

}  // namespace x2gojump

#pragma once
// A bounded registry of open connections, so the API can refuse connections beyond a limit and
// close all of them on shutdown. Thread-safe.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace x2gojump {

// What the registry can do to a connection.
class Closable {
 public:
  virtual ~Closable() = default;
  // Closes the connection soon; may be called from any thread, also after it closed by itself.
  virtual void close() = 0;
};

class ConnectionSlots {
 public:
  explicit ConnectionSlots(std::size_t capacity) : capacity_(capacity) {}

  // Registers connection and returns its id, or nullopt when capacity connections are already
  // registered or close_all() was called.
  std::optional<std::uint64_t> try_add(std::weak_ptr<Closable> connection);
  // Frees id's slot; unknown ids are ignored.
  void remove(std::uint64_t id);
  std::size_t size() const;
  // Calls close() on every registered connection that still exists and refuses new ones.
  void close_all();

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::weak_ptr<Closable>> open_;
};

}  // namespace x2gojump

#include "broker/agentapi/ConnectionSlots.h"

#include <vector>

namespace x2gojump {

std::optional<std::uint64_t> ConnectionSlots::try_add(std::weak_ptr<Closable> connection) {
  std::lock_guard lock(mutex_);
  if (closed_ || open_.size() >= capacity_) return std::nullopt;
  std::uint64_t id = next_id_++;
  open_.emplace(id, std::move(connection));
  return id;
}

void ConnectionSlots::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  open_.erase(id);
}

std::size_t ConnectionSlots::size() const {
  std::lock_guard lock(mutex_);
  return open_.size();
}

void ConnectionSlots::close_all() {
  std::vector<std::shared_ptr<Closable>> live;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& [id, connection] : open_) {
      if (auto locked = connection.lock()) live.push_back(std::move(locked));
    }
  }
  // Outside the lock: a connection's close (or its destruction, when live drops the last
  // reference) calls remove().
  for (auto& connection : live) connection->close();
}

}  // namespace x2gojump

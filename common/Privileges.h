#pragma once
// Running with the least privilege: switching a root-started daemon to its service user for good,
// and refusing secret files that other users could read or change.
#include <string>
#include <vector>

namespace x2gojump {

// Switches a process running as root to `user` for good: supplementary groups (initgroups),
// primary group, then uid (real, effective and saved). Files in `hand_over` (e.g. the state DB and
// its -wal/-shm, opened as root) that exist and belong to root are given to the user first, so
// the next start as that user can open them. Throws std::runtime_error naming the failed step,
// also when the user is unknown or root, or when root could be regained afterwards.
void drop_privileges(const std::string& user, const std::vector<std::string>& hand_over = {});

// Why `path` is not private enough for a secret ("" when it is or does not exist): any permission
// for others is refused, and any for the group too unless allow_group.
std::string private_file_problem(const std::string& path, bool allow_group);

}  // namespace x2gojump

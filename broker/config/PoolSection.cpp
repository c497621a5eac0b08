// [[pool]] tables: who may use which servers. Besides types and syntax this rejects rules that can
// never take effect (an allow entry a deny always beats), since such a pool does not do what its
// author thinks. Semantics in docs/acl.md.
#include <algorithm>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"
#include "broker/policy/AccessPolicy.h"

namespace x2gojump::config_detail {
namespace {

constexpr std::string_view kAnyUser = "*";

std::string indexed(std::string_view key, std::size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

// Login names the broker accepts at all ([A-Za-z0-9._-]); anything else could never match.
std::string check_user_entry(std::string_view name) {
  if (name.empty() || name.size() > 32) return "must be 1 to 32 characters";
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return "not a valid login name (letters, digits, '.', '_' and '-')";
  }
  return {};
}

std::string check_group_entry(std::string_view name) {
  if (name == kAnyUser) return "\"*\" is not a group; allow_users = [\"*\"] admits every user";
  if (name.empty() || name.size() > 256) return "must be 1 to 256 characters";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  }
  return {};
}

// A list of user or group names: valid entries, no duplicates (compared as LDAP does).
std::vector<Located<std::string>> read_names(TableReader& pool, std::string_view key, bool users,
                                             bool wildcard_ok) {
  auto entries = pool.strings(key);
  if (!entries) return {};
  std::vector<Located<std::string>> names;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const Located<std::string>& entry = (*entries)[i];
    std::string error;
    if (users && entry.value == kAnyUser) {
      if (!wildcard_ok) error = "\"*\" is only allowed in allow_users";
    } else {
      error = users ? check_user_entry(entry.value) : check_group_entry(entry.value);
    }
    if (error.empty() && std::any_of(names.begin(), names.end(), [&](const Located<std::string>& other) {
          return same_name(other.value, entry.value);
        })) {
      error = "\"" + entry.value + "\" is listed twice";
    }
    if (!error.empty()) {
      pool.error(entry.line, indexed(key, i), error);
      continue;
    }
    names.push_back(entry);
  }
  return names;
}

std::vector<Located<Cidr>> read_networks(TableReader& pool, std::string_view key) {
  auto entries = pool.strings(key);
  if (!entries) return {};
  std::vector<Located<Cidr>> networks;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const Located<std::string>& entry = (*entries)[i];
    std::string error;
    auto cidr = Cidr::parse(entry.value, &error);
    if (cidr && std::any_of(networks.begin(), networks.end(),
                            [&](const Located<Cidr>& other) { return other.value == *cidr; })) {
      error = cidr->to_string() + " is listed twice";
      cidr.reset();
    }
    if (!cidr) {
      pool.error(entry.line, indexed(key, i), error);
      continue;
    }
    networks.push_back({*cidr, entry.line});
  }
  return networks;
}

std::vector<std::string> values(const std::vector<Located<std::string>>& located) {
  std::vector<std::string> out;
  for (const auto& entry : located) out.push_back(entry.value);
  return out;
}

std::vector<Cidr> values(const std::vector<Located<Cidr>>& located) {
  std::vector<Cidr> out;
  for (const auto& entry : located) out.push_back(entry.value);
  return out;
}

void read_servers(TableReader& pool, const std::vector<ServerConfig>& known, PoolConfig* config) {
  auto servers = pool.strings("servers", /*required=*/true);
  if (!servers) return;
  if (servers->empty()) {
    pool.error(pool.line(), "servers", "must name at least one [[server]]");
    return;
  }
  for (std::size_t i = 0; i < servers->size(); ++i) {
    const std::string& name = (*servers)[i].value;
    std::string error;
    // Without any valid [[server]] that error is reported already; don't repeat it per pool.
    bool unknown = !known.empty() && std::none_of(known.begin(), known.end(),
                                                  [&](const ServerConfig& s) { return s.name == name; });
    if (unknown) {
      error = "unknown server \"" + name + "\" (not the name of any [[server]])";
    } else if (std::find(config->servers.begin(), config->servers.end(), name) != config->servers.end()) {
      error = "\"" + name + "\" is listed twice";
    }
    if (!error.empty()) {
      pool.error((*servers)[i].line, indexed("servers", i), error);
      continue;
    }
    config->servers.push_back(name);
  }
}

// Allow entries that a deny entry of the same pool always overrides.
void check_dead_allows(TableReader& pool, const std::vector<Located<std::string>>& allow_users,
                       const std::vector<Located<std::string>>& allow_groups,
                       const std::vector<Located<Cidr>>& allow_networks, const PoolConfig& config,
                       int deny_wins_line) {
  auto in = [](const std::vector<std::string>& list, const std::string& name) {
    return std::any_of(list.begin(), list.end(), [&](const std::string& e) { return same_name(e, name); });
  };
  for (std::size_t i = 0; i < allow_users.size(); ++i) {
    if (in(config.deny_users, allow_users[i].value)) {
      pool.error(allow_users[i].line, indexed("allow_users", i),
                 "\"" + allow_users[i].value +
                     "\" is also in deny_users, which always wins: this entry can never grant access");
    }
  }
  for (std::size_t i = 0; i < allow_groups.size(); ++i) {
    if (in(config.deny_groups, allow_groups[i].value)) {
      pool.error(allow_groups[i].line, indexed("allow_groups", i),
                 "\"" + allow_groups[i].value +
                     "\" is also in deny_groups, which always beats allow_groups: this entry can never "
                     "grant access");
    }
  }
  // deny_wins = false lets explicit allow_users entries (not "*") past group and network denies.
  const bool overrides = !config.deny_wins &&
                         std::any_of(allow_users.begin(), allow_users.end(),
                                     [](const Located<std::string>& u) { return u.value != kAnyUser; });
  if (!config.deny_wins && !overrides) {
    pool.error(deny_wins_line, "deny_wins",
               "false has no effect: it only lets allow_users entries (not \"*\") override denies, and "
               "this pool has none");
  }
  if (overrides) return;
  for (std::size_t i = 0; i < allow_networks.size(); ++i) {
    for (const Cidr& deny : config.deny_networks) {
      if (!deny.contains(allow_networks[i].value)) continue;
      pool.error(allow_networks[i].line, indexed("allow_networks", i),
                 allow_networks[i].value.to_string() + " lies inside deny_networks entry " +
                     deny.to_string() + ", which always wins: nobody can get in from it");
      break;
    }
  }
}

void read_pool(TableReader& pool, const std::vector<ServerConfig>& servers, ErrorSink* errors,
               PoolConfig* config) {
  if (auto name = pool.string("name", /*required=*/true)) {
    if (auto error = check_server_name(name->value); !error.empty()) pool.error(name->line, "name", error);
    config->name = name->value;
  }
  read_servers(pool, servers, config);
  auto allow_users = read_names(pool, "allow_users", true, true);
  auto allow_groups = read_names(pool, "allow_groups", false, false);
  auto allow_networks = read_networks(pool, "allow_networks");
  config->allow_users = values(allow_users);
  config->allow_groups = values(allow_groups);
  config->allow_networks = values(allow_networks);
  config->deny_users = values(read_names(pool, "deny_users", true, false));
  config->deny_groups = values(read_names(pool, "deny_groups", false, false));
  config->deny_networks = values(read_networks(pool, "deny_networks"));
  int deny_wins_line = pool.line();
  if (auto deny_wins = pool.boolean("deny_wins")) {
    config->deny_wins = deny_wins->value;
    deny_wins_line = deny_wins->line;
  }
  if (auto resume = pool.boolean("resume_outside_pool")) config->resume_outside_pool = resume->value;
  pool.report_unknown_keys();

  // allow_networks alone admits nobody: it narrows who allow_users/allow_groups admit.
  if (config->allow_users.empty() && config->allow_groups.empty()) {
    errors->add(pool.line(), pool.path_of("allow_users"),
                "the pool allows nobody: set allow_users and/or allow_groups (allow_networks only "
                "narrows them; allow_users = [\"*\"] admits every user)");
  }
  check_dead_allows(pool, allow_users, allow_groups, allow_networks, *config, deny_wins_line);
}

}  // namespace

void read_pool_list(const toml::node* pools, int root_line, const std::vector<ServerConfig>& servers,
                    ErrorSink* errors, std::vector<PoolConfig>* config) {
  if (!pools) return;
  const toml::array* array = pools->as_array();
  if (!array || !array->is_array_of_tables()) {
    errors->add(line_of(*pools, root_line), "pool",
                "expected array of tables ([[pool]]), got " + std::string(type_name(*pools)));
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *(*array)[i].as_table();
    TableReader pool(&table, indexed("pool", i), errors);
    PoolConfig entry;
    read_pool(pool, servers, errors, &entry);
    bool duplicate = !entry.name.empty() &&
                     std::any_of(config->begin(), config->end(),
                                 [&](const PoolConfig& other) { return other.name == entry.name; });
    if (duplicate) {
      pool.error(line_of(*table.get("name"), pool.line()), "name", "duplicate pool name \"" + entry.name + "\"");
    }
    config->push_back(std::move(entry));
  }
}

}  // namespace x2gojump::config_detail

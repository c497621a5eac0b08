#include "broker/auth/LdapDirectory.h"

#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <utility>

#include "broker/auth/LdapDn.h"
#include "broker/auth/LdapEscape.h"
#include "broker/auth/LdapSession.h"
#include "broker/auth/SigpipeGuard.h"

// One login is one connection: (service bind) -> user search -> bind as the user -> group reads.
// The user bind reuses the connection that found the DN, so the bind goes to the very server that
// knows the entry (no replica lag between search and bind) and costs no second TCP/TLS handshake.
// Groups are then read with the user's own rights, so the service account needs no access to the
// group tree, and a login never sees more than that user may see. groups_of() (for `x2gojumpctl
// explain`) has no password, so it reads groups as the service account (or anonymously).
namespace x2gojump {
namespace {

// The outcome of one URI. `next` means this server failed (not the request): try the next URI.
struct Attempt {
  LoginResult result;
  bool next = false;
};

Attempt finish(LoginStatus status, std::string detail) {
  Attempt a;
  a.result.status = status;
  a.result.detail = std::move(detail);
  return a;
}

Attempt try_next(std::string_view step, const LdapStatus& s) {
  Attempt a = finish(LoginStatus::DirectoryUnavailable, std::string(step) + ": " + s.text);
  a.next = true;
  return a;
}

// A failed step: either this server is unusable (try the next) or the directory refused.
Attempt failed(std::string_view step, const LdapStatus& s) {
  if (s.unreachable()) return try_next(step, s);
  return finish(LoginStatus::DirectoryUnavailable, std::string(step) + " refused: " + s.text);
}

const std::string& or_base(const std::string& base, const LdapConfig& config) {
  return base.empty() ? config.base_dn : base;
}

// memberUid holds the uid as the directory spells it, which may differ in case from the login.
std::string posix_uid(const LdapEntry& entry, std::string_view user) {
  auto it = entry.values.find("uid");
  if (it == entry.values.end() || it->second.empty()) return std::string(user);
  for (const std::string& uid : it->second) {
    if (uid.size() == user.size() && strncasecmp(uid.data(), user.data(), uid.size()) == 0) return uid;
  }
  return it->second.front();
}

// Adds the cn of each group DN; DNs not named by a cn RDN are skipped.
void add_group_names(const std::vector<std::string>& dns, std::vector<std::string>* groups) {
  for (const std::string& dn : dns) {
    if (auto cn = leading_cn(dn)) {
      groups->push_back(std::move(*cn));
    } else {
      spdlog::debug("ldap: ignoring group without a cn RDN: {}", dn);
    }
  }
}

// A size-limited search still delivered entries: the user search reads that as ambiguous, group
// searches keep what came (a huge membership list still yields groups).
bool search_succeeded(const LdapStatus& s) { return s.ok() || s.code == LDAP_SIZELIMIT_EXCEEDED; }

Attempt read_groups(LdapSession& session, const LdapConfig& config, const LdapEntry& user_entry,
                    std::string_view user, std::vector<std::string>* groups) {
  const std::string& group_base = or_base(config.group_base, config);
  std::vector<LdapEntry> entries;
  for (GroupStyle style : config.group_styles) {
    std::vector<std::string> dns;
    LdapStatus s;
    switch (style) {
      case GroupStyle::PosixMemberUid:
        s = session.search(group_base, false,
                           "(&(objectClass=posixGroup)(memberUid=" +
                               escape_filter_value(posix_uid(user_entry, user)) + "))",
                           {}, 0, &entries);
        for (const LdapEntry& e : entries) dns.push_back(e.dn);
        break;
      case GroupStyle::GroupOfNamesMember:
        s = session.search(group_base, false,
                           "(&(objectClass=groupOfNames)(member=" + escape_filter_value(user_entry.dn) + "))",
                           {}, 0, &entries);
        for (const LdapEntry& e : entries) dns.push_back(e.dn);
        break;
      case GroupStyle::MemberOf:
        // memberOf is operational: it is only returned when asked for by name.
        s = session.search(user_entry.dn, true, "(objectClass=*)", {"memberOf"}, 0, &entries);
        for (const LdapEntry& e : entries) {
          auto it = e.values.find("memberOf");
          if (it != e.values.end()) dns.insert(dns.end(), it->second.begin(), it->second.end());
        }
        break;
    }
    if (!search_succeeded(s)) return failed("group search", s);
    if (s.code == LDAP_SIZELIMIT_EXCEEDED) spdlog::warn("ldap: group search for {} hit the size limit", user_entry.dn);
    add_group_names(dns, groups);
  }
  std::sort(groups->begin(), groups->end());
  groups->erase(std::unique(groups->begin(), groups->end()), groups->end());
  return finish(LoginStatus::Ok, "");
}

// Connects, binds the service account if configured, and finds the user's single entry. Ok
// leaves *session open (as the service account or anonymous) and *entry set.
Attempt find_user(const std::string& uri, const LdapConfig& config, std::string_view user,
                  std::unique_ptr<LdapSession>* session, LdapEntry* entry) {
  LdapStatus s;
  *session = LdapSession::open(uri, config, &s);
  if (!*session) return try_next("connect", s);

  if (!config.bind_dn.empty()) {
    s = (*session)->bind(config.bind_dn, config.bind_password, nullptr);
    if (!s.ok()) return failed("service bind", s);
  }

  std::vector<LdapEntry> found;
  // Size limit 2: enough to tell "exactly one" from "ambiguous" without reading a whole subtree.
  s = (*session)->search(or_base(config.user_base, config), false, expand_filter(config.user_filter, user),
                         {"uid"}, 2, &found);
  if (!search_succeeded(s)) return failed("user search", s);
  if (found.empty()) return finish(LoginStatus::BadCredentials, "no such user");
  if (found.size() > 1 || s.code == LDAP_SIZELIMIT_EXCEEDED) {
    return finish(LoginStatus::BadCredentials, "ambiguous user: the filter matched more than one entry");
  }
  *entry = std::move(found.front());
  return finish(LoginStatus::Ok, "");
}

Attempt with_groups(LdapSession& session, const LdapConfig& config, const LdapEntry& entry,
                    std::string_view user) {
  std::vector<std::string> groups;
  Attempt a = read_groups(session, config, entry, user, &groups);
  if (a.result.status != LoginStatus::Ok) return a;
  a.result.user_dn = entry.dn;
  a.result.groups = std::move(groups);
  return a;
}

// Groups read with the service account's rights: no password, no user bind.
Attempt lookup(const std::string& uri, const LdapConfig& config, std::string_view user) {
  std::unique_ptr<LdapSession> session;
  LdapEntry entry;
  Attempt found = find_user(uri, config, user, &session, &entry);
  if (found.next || found.result.status != LoginStatus::Ok) return found;
  return with_groups(*session, config, entry, user);
}

Attempt attempt(const std::string& uri, const LdapConfig& config, std::string_view user,
                std::string_view password) {
  std::unique_ptr<LdapSession> session;
  LdapEntry entry;
  Attempt found = find_user(uri, config, user, &session, &entry);
  if (found.next || found.result.status != LoginStatus::Ok) return found;

  PasswordPolicy policy = PasswordPolicy::None;
  LdapStatus s = session->bind(entry.dn, password, &policy);
  // ppolicy reports the lock before it checks the password, so this can't wait for a good one.
  if (policy == PasswordPolicy::AccountLocked) return finish(LoginStatus::AccountLocked, "account locked");
  if (policy == PasswordPolicy::PasswordExpired) return finish(LoginStatus::AccountLocked, "password expired");
  if (s.code == LDAP_INVALID_CREDENTIALS) return finish(LoginStatus::BadCredentials, "wrong password");
  if (!s.ok()) return failed("user bind", s);
  // Until the password is changed the server refuses everything else, group reads included.
  if (policy == PasswordPolicy::ChangeAfterReset) {
    return finish(LoginStatus::AccountLocked, "password must be changed after reset");
  }

  return with_groups(*session, config, entry, user);
}

// libldap's one-time global set-up (ldap.conf, the TLS library) is not safe to race; do it once
// here so that concurrent first logins on a worker pool never run it in parallel.
void initialize_libldap_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    LDAP* ld = nullptr;
    if (ldap_initialize(&ld, "ldap://127.0.0.1") != LDAP_SUCCESS) return;
    const int is_server = 0;
    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
    ldap_unbind_ext_s(ld, nullptr, nullptr);
  });
}

// Tries each_uri on the configured URIs in order until one gives an answer (not "try the next").
LoginResult over_uris(const LdapConfig& config, std::string_view user,
                      const std::function<Attempt(const std::string&)>& each_uri) {
  const SigpipeGuard sigpipe_guard;  // outlives every session, so it covers their final unbind too
  std::string failures;
  for (const std::string& uri : config.uris) {
    Attempt a = each_uri(uri);
    if (!a.next) {
      spdlog::debug("ldap: {} via {}: {}", user, uri, a.result.detail.empty() ? "ok" : a.result.detail);
      return std::move(a.result);
    }
    spdlog::debug("ldap: {} unusable: {}", uri, a.result.detail);
    if (!failures.empty()) failures += "; ";
    failures += uri + ": " + a.result.detail;
  }
  LoginResult result;
  result.status = LoginStatus::DirectoryUnavailable;
  result.detail = failures.empty() ? "no LDAP URI configured" : failures;
  return result;
}

}  // namespace

LdapDirectory::LdapDirectory(LdapConfig config) : config_(std::move(config)) { initialize_libldap_once(); }

LoginResult LdapDirectory::authenticate(std::string_view user, std::string_view password) const {
  if (user.empty() || password.empty()) {
    // An empty password would be an RFC 4513 "unauthenticated bind", which some servers accept.
    LoginResult result;
    result.status = LoginStatus::BadCredentials;
    result.detail = user.empty() ? "empty user name" : "empty password";
    return result;
  }
  return over_uris(config_, user, [&](const std::string& uri) { return attempt(uri, config_, user, password); });
}

LoginResult LdapDirectory::groups_of(std::string_view user) const {
  if (user.empty()) {
    LoginResult result;
    result.status = LoginStatus::BadCredentials;
    result.detail = "empty user name";
    return result;
  }
  return over_uris(config_, user, [&](const std::string& uri) { return lookup(uri, config_, user); });
}

}  // namespace x2gojump

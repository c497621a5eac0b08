#include "broker/auth/LdapSession.h"

#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <sys/time.h>

#include <chrono>

namespace x2gojump {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

bool is_ldaps(const std::string& uri) { return uri.rfind("ldaps://", 0) == 0; }
bool is_ldap(const std::string& uri) { return uri.rfind("ldap://", 0) == 0; }

// Frees what libldap hands out, whatever path a function leaves by.
struct MessageFree {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using Message = std::unique_ptr<LDAPMessage, MessageFree>;
struct MemFree {
  void operator()(char* p) const { ldap_memfree(p); }
};
using LdapString = std::unique_ptr<char, MemFree>;

// Applies every per-handle option. CONNECT_ASYNC is what bounds an ldaps:// handshake: on a
// synchronous connection libldap 2.5 makes the socket non-blocking for NETWORK_TIMEOUT but then
// retries the TLS handshake without polling, spinning forever against a server that stalls.
// TLS options only take effect once LDAP_OPT_X_TLS_NEWCTX builds
// the handle's own context from them; without it the process-wide defaults (ldap.conf) apply.
int configure(LDAP* ld, const LdapConfig& config) {
  const int version = LDAP_VERSION3;
  const timeval connect_timeout = to_timeval(config.connect_timeout);
  const timeval op_timeout = to_timeval(config.operation_timeout);
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  const int tls_min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  const int new_ctx_is_server = 0;
  int rc = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &connect_timeout);
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op_timeout);
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON);
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls_min);
  if (rc == LDAP_OPT_SUCCESS && !config.ca_file.empty()) {
    rc = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, config.ca_file.c_str());
  }
  if (rc == LDAP_OPT_SUCCESS) rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &new_ctx_is_server);
  return rc == LDAP_OPT_SUCCESS ? LDAP_SUCCESS : LDAP_LOCAL_ERROR;
}

PasswordPolicy policy_verdict(LDAP* ld, LDAPControl** controls) {
  LDAPControl* control = ldap_control_find(LDAP_CONTROL_PASSWORDPOLICYRESPONSE, controls, nullptr);
  if (control == nullptr) return PasswordPolicy::None;
  ber_int_t expire = -1;
  ber_int_t grace = -1;
  LDAPPasswordPolicyError error = PP_noError;
  if (ldap_parse_passwordpolicy_control(ld, control, &expire, &grace, &error) != LDAP_SUCCESS) {
    return PasswordPolicy::None;
  }
  switch (error) {
    case PP_accountLocked: return PasswordPolicy::AccountLocked;
    case PP_passwordExpired: return PasswordPolicy::PasswordExpired;
    case PP_changeAfterReset: return PasswordPolicy::ChangeAfterReset;
    default: return PasswordPolicy::None;
  }
}

}  // namespace

bool LdapStatus::unreachable() const {
  switch (code) {
    case LDAP_SERVER_DOWN:
    case LDAP_TIMEOUT:
    case LDAP_CONNECT_ERROR:  // also how a failed TLS handshake or certificate check surfaces
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_BUSY:
    case LDAP_UNAVAILABLE:
    case LDAP_LOCAL_ERROR:
    case LDAP_PARAM_ERROR:  // a URI libldap cannot parse: that entry can never answer
      return true;
    default:
      return false;
  }
}

std::unique_ptr<LdapSession> LdapSession::open(const std::string& uri, const LdapConfig& config,
                                               LdapStatus* status) {
  LDAP* ld = nullptr;
  int rc = ldap_initialize(&ld, uri.c_str());
  if (rc != LDAP_SUCCESS) {
    *status = {rc, std::string("invalid URI: ") + ldap_err2string(rc)};
    return nullptr;
  }
  std::unique_ptr<LdapSession> session(new LdapSession(ld, config.operation_timeout));
  rc = configure(ld, config);
  if (rc != LDAP_SUCCESS) {
    *status = {rc, "setting connection options failed"};
    return nullptr;
  }
  // StartTLS on ldapi:// would add nothing, and ldaps:// is already encrypted.
  if (config.starttls && is_ldap(uri) && !is_ldaps(uri)) {
    rc = ldap_start_tls_s(ld, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) {
      *status = session->status(rc);
      status->text = "StartTLS failed: " + status->text;
      // Whatever went wrong, a login must not continue in plaintext on this server.
      if (!status->unreachable()) status->code = LDAP_CONNECT_ERROR;
      return nullptr;
    }
  }
  *status = {};
  return session;
}

LdapSession::~LdapSession() { ldap_unbind_ext_s(ld_, nullptr, nullptr); }

LdapStatus LdapSession::status(int code) const {
  std::string text = ldap_err2string(code);
  char* diagnostic = nullptr;
  if (ldap_get_option(ld_, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) == LDAP_OPT_SUCCESS && diagnostic != nullptr) {
    LdapString owned(diagnostic);
    if (*diagnostic != '\0') text += std::string(" (") + diagnostic + ")";
  }
  return {code, text};
}

LdapStatus LdapSession::bind(const std::string& dn, std::string_view password, PasswordPolicy* policy) {
  // The async call plus ldap_result is the only way to see the response controls (ppolicy).
  LDAPControl* request = nullptr;
  if (policy != nullptr) {
    *policy = PasswordPolicy::None;
    if (ldap_create_passwordpolicy_control(ld_, &request) != LDAP_SUCCESS) return status(LDAP_NO_MEMORY);
  }
  LDAPControl* server_controls[] = {request, nullptr};
  berval credentials{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
  int msgid = -1;
  int rc = ldap_sasl_bind(ld_, dn.c_str(), LDAP_SASL_SIMPLE, &credentials, server_controls, nullptr, &msgid);
  if (request != nullptr) ldap_control_free(request);
  if (rc != LDAP_SUCCESS) return status(rc);

  timeval timeout = to_timeval(operation_timeout_);
  LDAPMessage* raw = nullptr;
  rc = ldap_result(ld_, msgid, LDAP_MSG_ALL, &timeout, &raw);
  Message result(raw);
  if (rc == 0) {
    ldap_abandon_ext(ld_, msgid, nullptr, nullptr);
    return {LDAP_TIMEOUT, "bind timed out"};
  }
  if (rc < 0) {
    int code = LDAP_OTHER;
    ldap_get_option(ld_, LDAP_OPT_RESULT_CODE, &code);
    return status(code);
  }
  int code = LDAP_OTHER;
  char* text = nullptr;
  LDAPControl** controls = nullptr;
  rc = ldap_parse_result(ld_, result.get(), &code, nullptr, &text, nullptr, &controls, 0);
  LdapString owned_text(text);
  if (rc != LDAP_SUCCESS) return status(rc);
  if (controls != nullptr) {
    if (policy != nullptr) *policy = policy_verdict(ld_, controls);
    ldap_controls_free(controls);
  }
  LdapStatus out{code, ldap_err2string(code)};
  if (text != nullptr && *text != '\0') out.text += std::string(" (") + text + ")";
  return out;
}

LdapStatus LdapSession::search(const std::string& base, bool base_scope, const std::string& filter,
                               const std::vector<std::string>& attributes, int size_limit,
                               std::vector<LdapEntry>* entries) {
  entries->clear();
  std::vector<char*> attrs;
  for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  static char no_attributes[] = LDAP_NO_ATTRS;  // "1.1": the DN alone
  if (attrs.empty()) attrs.push_back(no_attributes);
  attrs.push_back(nullptr);

  timeval timeout = to_timeval(operation_timeout_);
  LDAPMessage* raw = nullptr;
  const int rc = ldap_search_ext_s(ld_, base.c_str(), base_scope ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE,
                                   filter.c_str(), attrs.data(), 0, nullptr, nullptr, &timeout,
                                   size_limit, &raw);
  Message result(raw);
  if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) return status(rc);
  for (LDAPMessage* e = ldap_first_entry(ld_, result.get()); e != nullptr; e = ldap_next_entry(ld_, e)) {
    LdapEntry entry;
    LdapString dn(ldap_get_dn(ld_, e));
    if (dn) entry.dn = dn.get();
    for (const std::string& a : attributes) {
      berval** values = ldap_get_values_len(ld_, e, a.c_str());
      if (values == nullptr) continue;
      auto& out = entry.values[a];
      for (berval** v = values; *v != nullptr; ++v) out.emplace_back((*v)->bv_val, (*v)->bv_len);
      ldap_value_free_len(values);
    }
    entries->push_back(std::move(entry));
  }
  return {rc, ldap_err2string(rc)};
}

}  // namespace x2gojump

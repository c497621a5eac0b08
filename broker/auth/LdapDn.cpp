#include "broker/auth/LdapDn.h"

#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <strings.h>

#include <string>

namespace x2gojump {

std::optional<std::string> leading_cn(std::string_view dn) {
  // ldap_bv2dn does the RFC 4514 unescaping ("cn=a\,b" -> "a,b") that a hand-written split gets wrong.
  // It reads one byte past bv_len (the NUL it expects there), which a string_view does not
  // promise: parse a terminated copy. (Found by the ldap_escape fuzz target.)
  std::string text(dn);
  berval in{static_cast<ber_len_t>(text.size()), text.data()};
  LDAPDN parsed = nullptr;
  if (ldap_bv2dn(&in, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) return std::nullopt;
  std::optional<std::string> cn;
  if (parsed != nullptr && parsed[0] != nullptr) {
    // A multi-valued RDN ("cn=x+uid=y") still names the group by its cn.
    for (LDAPAVA** ava = parsed[0]; *ava != nullptr; ++ava) {
      const berval& attr = (*ava)->la_attr;
      if (attr.bv_len == 2 && strncasecmp(attr.bv_val, "cn", 2) == 0 &&
          ((*ava)->la_flags & LDAP_AVA_BINARY) == 0) {
        cn.emplace((*ava)->la_value.bv_val, (*ava)->la_value.bv_len);
        break;
      }
    }
  }
  ldap_dnfree(parsed);
  return cn;
}

}  // namespace x2gojump

#include <algorithm>

#include "broker/config/ConfigSections.h"
#include "broker/config/ConfigSyntax.h"
#include "broker/config/SecretFile.h"

namespace x2gojump::config_detail {
namespace {

void read_uris(TableReader& ldap, LdapConfig* config) {
  auto uris = ldap.strings("uris", /*required=*/true);
  if (!uris) return;
  if (uris->empty()) ldap.error(ldap.line(), "uris", "must not be empty");
  for (std::size_t i = 0; i < uris->size(); ++i) {
    const auto& uri = (*uris)[i];
    if (auto error = check_ldap_uri(uri.value); !error.empty()) {
      ldap.error(uri.line, "uris[" + std::to_string(i) + "]", error);
    }
    config->uris.push_back(uri.value);
  }
}

void read_group_styles(TableReader& ldap, LdapConfig* config) {
  auto names = ldap.strings("group_styles");
  if (!names) return;
  if (names->empty()) {
    ldap.error(ldap.line(), "group_styles", "must not be empty");
    return;
  }
  std::vector<GroupStyle> styles;
  for (std::size_t i = 0; i < names->size(); ++i) {
    const auto& name = (*names)[i];
    std::string key = "group_styles[" + std::to_string(i) + "]";
    GroupStyle style;
    if (auto error = parse_group_style(name.value, &style); !error.empty()) {
      ldap.error(name.line, key, error);
    } else if (std::find(styles.begin(), styles.end(), style) != styles.end()) {
      ldap.error(name.line, key, "duplicate group style \"" + name.value + "\"");
    } else {
      styles.push_back(style);
    }
  }
  config->group_styles = std::move(styles);
}

void read_bind(TableReader& ldap, const std::filesystem::path& config_dir, LdapConfig* config) {
  auto bind_dn = ldap.string("bind_dn");
  auto password_file = ldap.string("bind_password_file");
  if (bind_dn) config->bind_dn = bind_dn->value;
  bool has_file = password_file && !password_file->value.empty();
  // A bind_dn of the wrong type is already reported; do not pile a second error on it.
  if (!bind_dn && ldap.node("bind_dn")) return;
  if (config->bind_dn.empty()) {
    if (has_file) {
      ldap.error(password_file->line, "bind_password_file", "set, but bind_dn is empty");
    }
    return;
  }
  if (!has_file) {
    ldap.error(password_file ? password_file->line : ldap.line(), "bind_password_file",
               "required when bind_dn is set");
    return;
  }
  std::filesystem::path path(password_file->value);
  if (path.is_relative()) path = config_dir / path;
  if (auto error = read_secret_file(path.string(), &config->bind_password); !error.empty()) {
    ldap.error(password_file->line, "bind_password_file", error);
  }
}

}  // namespace

void read_ldap_section(TableReader& ldap, const std::filesystem::path& config_dir,
                       LdapConfig* config) {
  read_uris(ldap, config);
  if (auto starttls = ldap.boolean("starttls")) config->starttls = starttls->value;
  if (auto ca_file = ldap.string("ca_file")) config->ca_file = ca_file->value;
  if (auto base_dn = ldap.string("base_dn", /*required=*/true)) {
    if (base_dn->value.empty()) ldap.error(base_dn->line, "base_dn", "must not be empty");
    config->base_dn = base_dn->value;
  }
  if (auto user_base = ldap.string("user_base")) config->user_base = user_base->value;
  if (config->user_base.empty()) config->user_base = config->base_dn;
  if (auto filter = ldap.string("user_filter")) {
    if (auto error = check_user_filter(filter->value); !error.empty()) {
      ldap.error(filter->line, "user_filter", error);
    }
    config->user_filter = filter->value;
  }
  if (auto group_base = ldap.string("group_base")) config->group_base = group_base->value;
  if (config->group_base.empty()) config->group_base = config->base_dn;
  read_group_styles(ldap, config);
  read_bind(ldap, config_dir, config);
  if (auto timeout = ldap.integer("connect_timeout_ms", 1, 60000)) {
    config->connect_timeout = std::chrono::milliseconds(timeout->value);
  }
  if (auto timeout = ldap.integer("operation_timeout_ms", 1, 120000)) {
    config->operation_timeout = std::chrono::milliseconds(timeout->value);
  }
}

}  // namespace x2gojump::config_detail

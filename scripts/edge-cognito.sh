#!/usr/bin/env bash
# Manages the Cognito app clients of the edge (edge.auth.mode cognito; docs/edge.md).
# Terraform creates none of them, so no client secret is in Terraform state.
#
#   scripts/edge-cognito.sh init SETTINGS             browser client, its login style and the ALB sign-in rules (once per deploy)
#   scripts/edge-cognito.sh rotate-browser SETTINGS   new browser client and secret; the rules switch to it, then the old one goes
#   scripts/edge-cognito.sh api-create SETTINGS NAME  machine client for a script: prints client_id and client_secret on stdout
#   scripts/edge-cognito.sh api-rotate SETTINGS NAME  adds a second secret (both work) and prints it on stdout
#   scripts/edge-cognito.sh api-retire SETTINGS NAME  deletes every secret of the client but the newest
#   scripts/edge-cognito.sh api-delete SETTINGS NAME  deletes the client (tokens it got stay valid until they expire)
#   scripts/edge-cognito.sh list SETTINGS             clients, ids and secret counts (never a secret value)
#   scripts/edge-cognito.sh teardown SETTINGS         removes the sign-in rules and the browser client (before leaving cognito mode)
#
# SETTINGS is the edge stack output cognito_edge_settings saved to a file:
#   terraform output -raw cognito_edge_settings > cognito-edge.env
# Until init runs, the ALB answers browsers with 403: Terraform's listener
# forwards nothing by default. Requests reach the AWS CLI as JSON in a
# mode-600 file (--cli-input-json); secrets come back only from Cognito.
set -euo pipefail

# Listener rules this script owns; Terraform owns 10 (bearer tokens) and 30 (other Origins).
# constructs/edge/internal-alb.ts ALB_RULE_PRIORITY holds the same numbers (a test checks).
readonly SAME_ORIGIN_RULE_PRIORITY=20
readonly SIGN_IN_RULE_PRIORITY=40
readonly SETTINGS_KEYS=(name_prefix region user_pool_id user_pool_arn login_domain listener_arn target_group_arn
  site_domain session_cookie_name session_hours api_scope api_token_minutes)

usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# fail, reject_options, aws_json
# shellcheck source=scripts/edge-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/edge-common.sh"

declare -A settings=()

check_setting() { # key pattern description
  [[ "${settings[$1]}" =~ $2 ]] || fail "settings: $1 must be $3, got '${settings[$1]}'"
}

check_range() { # key min max
  if ! [[ "${settings[$1]}" =~ ^[0-9]{1,5}$ ]] || ((settings[$1] < $2 || settings[$1] > $3)); then
    fail "settings: $1 must be $2-$3, got ${settings[$1]}"
  fi
}

load_settings() { # file
  [[ (-f "$1" || -p "$1") && -r "$1" ]] || fail "settings file $1 is not readable: write it with 'terraform output -raw cognito_edge_settings > $1' in the edge stack"
  local line key known
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -n "$line" ]] || continue
    [[ "$line" == *=* ]] || fail "settings: line without '=': $line"
    key="${line%%=*}"
    known=''
    for k in "${SETTINGS_KEYS[@]}"; do [[ "$k" == "$key" ]] && known=1; done
    [[ -n "$known" ]] || fail "settings: unknown key $key"
    settings[$key]="${line#*=}"
  done <"$1"
  for key in "${SETTINGS_KEYS[@]}"; do
    [[ -n "${settings[$key]:-}" ]] || fail "settings: $key is missing"
  done
  check_setting name_prefix '^[a-z0-9][a-z0-9-]{0,62}$' 'a name prefix'
  check_setting region '^[a-z]{2}(-[a-z]+)+-[0-9]$' 'an AWS region'
  check_setting user_pool_id '^[a-z]{2}(-[a-z]+)+-[0-9]_[0-9A-Za-z]+$' 'a user pool id'
  check_setting user_pool_arn '^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/' 'a user pool ARN'
  check_setting login_domain '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' 'a Cognito domain prefix'
  check_setting listener_arn '^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:listener/app/' 'an ALB listener ARN'
  check_setting target_group_arn '^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/' 'a target group ARN'
  check_setting site_domain '^([a-z0-9-]+\.)+[a-z]{2,}$' 'a DNS name'
  check_setting session_cookie_name '^[A-Za-z0-9_-]{1,64}$' 'a cookie name'
  check_setting api_scope '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' 'a scope <resource server>/<name>'
  check_range session_hours 1 168
  check_range api_token_minutes 5 1440
}

check_name() {
  [[ "$1" =~ ^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$ ]] || fail "NAME must be 1-32 lowercase letters, digits and hyphens, got '$1'"
}

# aws cognito-idp|elbv2 COMMAND in the deployment's region, whatever the profile's default is.
idp() { aws cognito-idp "$1" --region "${settings[region]}" "${@:2}"; }
elb() { aws elbv2 "$1" --region "${settings[region]}" "${@:2}"; }

# aws_json in the deployment's region.
regional_json() { aws_json "$1" "$2" --region "${settings[region]}" "${@:3}"; }

# The script's rules on the listener, read once: rule_arns[priority] and rule_clients[priority] (the browser client it signs in with).
declare -A rule_arns=() rule_clients=()
load_rules() {
  local priority arn client
  rule_arns=()
  rule_clients=()
  while read -r priority arn client; do
    [[ -n "$priority" && "$priority" != "None" ]] || continue
    rule_arns[$priority]="$arn"
    [[ "$client" == "None" ]] || rule_clients[$priority]="$client"
  done < <(elb describe-rules --listener-arn "${settings[listener_arn]}"     --query "Rules[?Priority=='$SAME_ORIGIN_RULE_PRIORITY' || Priority=='$SIGN_IN_RULE_PRIORITY'].[Priority, RuleArn, (Actions[?Type=='authenticate-cognito'] | [0].AuthenticateCognitoConfig.UserPoolClientId)]"     --output text)
}

# The browser client the sign-in rules use (the catch-all rule first), or nothing.
current_browser_client() {
  printf '%s' "${rule_clients[$SIGN_IN_RULE_PRIORITY]:-${rule_clients[$SAME_ORIGIN_RULE_PRIORITY]:-}}"
}

client_exists() { # id
  idp describe-user-pool-client --user-pool-id "${settings[user_pool_id]}" --client-id "$1" --query UserPoolClient.ClientId --output text >/dev/null 2>&1
}

# The confidential client the ALB exchanges authorization codes with (the ALB reads its secret from Cognito).
create_browser_client() {
  local id site="https://${settings[site_domain]}"
  id="$(printf '{"UserPoolId":"%s","ClientName":"%s-alb","GenerateSecret":true,"AllowedOAuthFlowsUserPoolClient":true,"AllowedOAuthFlows":["code"],"AllowedOAuthScopes":["openid"],"SupportedIdentityProviders":["COGNITO"],"CallbackURLs":["%s/oauth2/idpresponse"],"LogoutURLs":["%s/"],"ExplicitAuthFlows":["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"],"PreventUserExistenceErrors":"ENABLED","EnableTokenRevocation":true,"AccessTokenValidity":60,"IdTokenValidity":60,"RefreshTokenValidity":%d,"TokenValidityUnits":{"AccessToken":"minutes","IdToken":"minutes","RefreshToken":"hours"}}' \
    "${settings[user_pool_id]}" "${settings[name_prefix]}" "$site" "$site" "${settings[session_hours]}" |
    regional_json cognito-idp create-user-pool-client --query UserPoolClient.ClientId --output text)"
  # Managed login pages of a client work only once it has a style; Cognito's defaults suffice.
  if ! printf '{"UserPoolId":"%s","ClientId":"%s","UseCognitoProvidedValues":true}' "${settings[user_pool_id]}" "$id" |
    regional_json cognito-idp create-managed-login-branding >/dev/null; then
    idp delete-user-pool-client --user-pool-id "${settings[user_pool_id]}" --client-id "$id" >/dev/null || true
    fail "could not give browser client $id a login style; deleted it again"
  fi
  printf '%s' "$id"
}

delete_browser_client() { # id
  local branding
  branding="$(idp describe-managed-login-branding-by-client --user-pool-id "${settings[user_pool_id]}" --client-id "$1" \
    --query ManagedLoginBranding.ManagedLoginBrandingId --output text 2>/dev/null || true)"
  if [[ -n "$branding" && "$branding" != "None" ]]; then
    idp delete-managed-login-branding --user-pool-id "${settings[user_pool_id]}" --managed-login-branding-id "$branding" >/dev/null
  fi
  idp delete-user-pool-client --user-pool-id "${settings[user_pool_id]}" --client-id "$1" >/dev/null
}

# Sign in with the browser client, then forward: the only actions the script's rules ever have.
rule_actions() { # client id
  printf '[{"Type":"authenticate-cognito","Order":1,"AuthenticateCognitoConfig":{"UserPoolArn":"%s","UserPoolClientId":"%s","UserPoolDomain":"%s","SessionCookieName":"%s","Scope":"openid","SessionTimeout":%d,"OnUnauthenticatedRequest":"authenticate"}},{"Type":"forward","Order":2,"TargetGroupArn":"%s"}]' \
    "${settings[user_pool_arn]}" "$1" "${settings[login_domain]}" "${settings[session_cookie_name]}" "$((settings[session_hours] * 3600))" "${settings[target_group_arn]}"
}

rule_conditions() { # priority
  if (($1 == SAME_ORIGIN_RULE_PRIORITY)); then
    # The UI's own writes and WebSocket; other Origins get Terraform's 403 rule (browsers attach cookies cross-site).
    printf '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"Origin","Values":["https://%s"]}}]' "${settings[site_domain]}"
  else
    printf '[{"Field":"path-pattern","Values":["/*"]}]'
  fi
}

# Creates the rule at a priority, or sets its conditions and actions (repairs drift). Needs load_rules.
put_rule() { # priority client
  local arn="${rule_arns[$1]:-}"
  if [[ -z "$arn" ]]; then
    printf '{"ListenerArn":"%s","Priority":%d,"Conditions":%s,"Actions":%s}' "${settings[listener_arn]}" "$1" "$(rule_conditions "$1")" "$(rule_actions "$2")" |
      regional_json elbv2 create-rule >/dev/null
  else
    printf '{"RuleArn":"%s","Conditions":%s,"Actions":%s}' "$arn" "$(rule_conditions "$1")" "$(rule_actions "$2")" | regional_json elbv2 modify-rule >/dev/null
  fi
}

api_client_name() { printf '%s-api-%s' "${settings[name_prefix]}" "$1"; }

# Id of the API client NAME, or nothing; refuses duplicates (made by hand) rather than guess.
# (No --max-results: it would turn off the CLI's pagination and hide clients past the first page.)
api_client_id() { # name
  local ids
  ids="$(idp list-user-pool-clients --user-pool-id "${settings[user_pool_id]}" \
    --query "UserPoolClients[?ClientName=='$(api_client_name "$1")'].ClientId" --output text)"
  [[ "$ids" == "None" ]] && ids=''
  [[ "$ids" != *[[:space:]]* ]] || fail "several clients are named $(api_client_name "$1") ($ids): delete the extra ones in the Cognito console"
  printf '%s' "$ids"
}

require_api_client() { # name
  local id
  id="$(api_client_id "$1")"
  [[ -n "$id" ]] || fail "no API client $1 in ${settings[user_pool_id]}: create it with '$0 api-create SETTINGS $1'"
  printf '%s' "$id"
}

secret_ids_oldest_first() { # client id
  idp list-user-pool-client-secrets --user-pool-id "${settings[user_pool_id]}" --client-id "$1" \
    --query 'sort_by(ClientSecrets, &ClientSecretCreateDate)[].ClientSecretId' --output text
}

[[ $# -ge 2 ]] || usage
command="$1"
shift
reject_options "$@"

case "$command" in
  init | rotate-browser | list | teardown) (($# == 1)) || usage ;;
  api-create | api-rotate | api-retire | api-delete)
    (($# == 2)) || usage
    check_name "$2"
    ;;
  *) usage ;;
esac
load_settings "$1"

case "$command" in
  init)
    load_rules
    client="$(current_browser_client)"
    if [[ -n "$client" ]] && client_exists "$client"; then
      echo "The sign-in rules use browser client $client." >&2
    else
      client="$(create_browser_client)"
      echo "Created the browser client $client (${settings[name_prefix]}-alb) and its login style." >&2
    fi
    put_rule "$SAME_ORIGIN_RULE_PRIORITY" "$client"
    put_rule "$SIGN_IN_RULE_PRIORITY" "$client"
    echo "Listener rules $SAME_ORIGIN_RULE_PRIORITY and $SIGN_IN_RULE_PRIORITY sign users in, then forward: https://${settings[site_domain]}/ is open to signed-in users." >&2
    ;;
  rotate-browser)
    load_rules
    old="$(current_browser_client)"
    [[ -n "$old" ]] || fail "no sign-in rule on ${settings[listener_arn]}: run '$0 init' first"
    new="$(create_browser_client)"
    # Both rules point at the new client before the old one disappears, so no sign-in meets a deleted client.
    put_rule "$SAME_ORIGIN_RULE_PRIORITY" "$new"
    put_rule "$SIGN_IN_RULE_PRIORITY" "$new"
    delete_browser_client "$old"
    echo "Replaced browser client $old by $new (new secret); the old client and its secret are deleted. Browsers may have to sign in again." >&2
    ;;
  teardown)
    load_rules
    client="$(current_browser_client)"
    for priority in "$SIGN_IN_RULE_PRIORITY" "$SAME_ORIGIN_RULE_PRIORITY"; do
      [[ -z "${rule_arns[$priority]:-}" ]] || elb delete-rule --rule-arn "${rule_arns[$priority]}" >/dev/null
    done
    if [[ -n "$client" ]] && client_exists "$client"; then
      delete_browser_client "$client"
    fi
    echo "Removed the sign-in rules${client:+ and browser client $client}: the listener answers 403 to everything but bearer tokens." >&2
    ;;
  api-create)
    [[ -z "$(api_client_id "$2")" ]] || fail "API client $2 exists: get a new secret with '$0 api-rotate SETTINGS $2'"
    created="$(printf '{"UserPoolId":"%s","ClientName":"%s","GenerateSecret":true,"AllowedOAuthFlowsUserPoolClient":true,"AllowedOAuthFlows":["client_credentials"],"AllowedOAuthScopes":["%s"],"SupportedIdentityProviders":["COGNITO"],"ExplicitAuthFlows":["ALLOW_REFRESH_TOKEN_AUTH"],"PreventUserExistenceErrors":"ENABLED","EnableTokenRevocation":true,"AccessTokenValidity":%d,"TokenValidityUnits":{"AccessToken":"minutes"}}' \
      "${settings[user_pool_id]}" "$(api_client_name "$2")" "${settings[api_scope]}" "${settings[api_token_minutes]}" |
      regional_json cognito-idp create-user-pool-client --query 'UserPoolClient.[ClientId,ClientSecret]' --output text)"
    read -r id secret <<<"$created"
    printf 'client_id=%s\nclient_secret=%s\n' "$id" "$secret"
    echo "Created API client $2 ($id), scope ${settings[api_scope]}; its secret is on stdout only (store it now)." >&2
    ;;
  api-rotate)
    id="$(require_api_client "$2")"
    count="$(idp list-user-pool-client-secrets --user-pool-id "${settings[user_pool_id]}" --client-id "$id" --query 'length(ClientSecrets)' --output text)"
    ((count < 2)) || fail "API client $2 already has 2 secrets (Cognito's maximum): once every script uses the newest, run '$0 api-retire SETTINGS $2'"
    added="$(idp add-user-pool-client-secret --user-pool-id "${settings[user_pool_id]}" --client-id "$id" \
      --query 'ClientSecretDescriptor.[ClientSecretId,ClientSecretValue]' --output text)"
    read -r secret_id secret <<<"$added"
    printf 'client_id=%s\nclient_secret=%s\n' "$id" "$secret"
    echo "Added secret $secret_id to API client $2; the old one keeps working until '$0 api-retire SETTINGS $2'." >&2
    ;;
  api-retire)
    id="$(require_api_client "$2")"
    read -r -a secret_ids <<<"$(secret_ids_oldest_first "$id")"
    ((${#secret_ids[@]} > 1)) || {
      echo "API client $2 has one secret: nothing to retire." >&2
      exit 0
    }
    for secret_id in "${secret_ids[@]:0:${#secret_ids[@]}-1}"; do
      idp delete-user-pool-client-secret --user-pool-id "${settings[user_pool_id]}" --client-id "$id" --client-secret-id "$secret_id" >/dev/null
      echo "Deleted secret $secret_id of API client $2." >&2
    done
    ;;
  api-delete)
    id="$(require_api_client "$2")"
    idp delete-user-pool-client --user-pool-id "${settings[user_pool_id]}" --client-id "$id" >/dev/null
    echo "Deleted API client $2 ($id); access tokens it already got work until they expire (${settings[api_token_minutes]} min at most)." >&2
    ;;
  list)
    load_rules
    browser="$(current_browser_client)"
    printf 'browser\t%s-alb\t%s\n' "${settings[name_prefix]}" "${browser:-(none: run init)}"
    prefix="$(api_client_name '')"
    idp list-user-pool-clients --user-pool-id "${settings[user_pool_id]}" \
      --query "UserPoolClients[?starts_with(ClientName, '$prefix')].[ClientName,ClientId]" --output text |
      while read -r name id; do
        [[ -n "$name" && "$name" != "None" ]] || continue
        count="$(idp list-user-pool-client-secrets --user-pool-id "${settings[user_pool_id]}" --client-id "$id" --query 'length(ClientSecrets)' --output text)"
        printf 'api\t%s\t%s\t%s secret(s)\n' "${name#"$prefix"}" "$id" "$count"
      done
    ;;
esac

#!/usr/bin/env bash
# Manages the Basic-auth users and secrets of the CloudFront edge (docs/edge.md).
# Terraform never writes them, so none of them is in Terraform state.
#
#   scripts/edge-user.sh init STORE LISTENER TARGET_GROUP   create the missing secrets and the ALB rule (once per deploy)
#   scripts/edge-user.sh put STORE USERNAME                 add the user, or give it a new password (no redeploy)
#   scripts/edge-user.sh delete STORE USERNAME              remove the user now
#   scripts/edge-user.sh rotate-sessions STORE              new session-cookie key: every browser session ends
#   scripts/edge-user.sh rotate-origin STORE LISTENER       new origin header value, without dropping a request
#
# STORE is the KeyValueStore name or ARN, LISTENER the ALB listener ARN and
# TARGET_GROUP the target group ARN (edge stack outputs auth_key_value_store_name,
# alb_listener_arn, target_group_arn). Passwords are always generated: 24
# URL-safe characters (144 random bits), printed once on stderr; the edge
# function refuses any other shape. Secret values never appear on a command
# line: they reach the AWS CLI in a mode-600 file (--cli-input-json).
# ORIGIN_ROTATION_WAIT_SECONDS (default 60): how long rotate-origin lets both
# origin values pass while the new one propagates to every edge location.
set -euo pipefail

readonly KEY_PREFIX='user:'
readonly SESSION_SECRET_KEY='session:secret'
readonly ORIGIN_SECRET_KEY='origin:secret'
readonly ORIGIN_HEADER='x-comfyui-origin-verify'
# The only listener rule with this priority forwards requests carrying the origin header.
readonly ORIGIN_RULE_PRIORITY=1

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# fail, reject_options, aws_json
# shellcheck source=scripts/edge-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/edge-common.sh"

sha256_hex() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -d' ' -f1
  else
    openssl dgst -sha256 -r | cut -d' ' -f1
  fi
}

random_token() {
  # $1 random bytes, URL-safe base64 without padding.
  head -c "$1" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

check_username() {
  # Same rule as the edge function (no ':' so the split is unambiguous).
  [[ "$1" =~ ^[A-Za-z0-9._@-]{1,64}$ ]] || fail "username must be 1-64 characters of letters, digits, . _ @ -, got '$1'"
}

check_arn() { # what value
  [[ "$2" =~ ^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:$1/ ]] || fail "expected an ALB $1 ARN, got '$2'"
}

store_arn() {
  if [[ "$1" == arn:* ]]; then
    printf '%s' "$1"
  else
    aws cloudfront describe-key-value-store --name "$1" --query 'KeyValueStore.ARN' --output text
  fi
}

# The data-plane ETag (not the control-plane one) guards every key write.
store_etag() {
  aws cloudfront-keyvaluestore describe-key-value-store --kvs-arn "$1" --query 'ETag' --output text
}

put_key() { # arn key value
  local etag
  etag="$(store_etag "$1")"
  printf '{"KvsARN":"%s","Key":"%s","Value":"%s","IfMatch":"%s"}' "$1" "$2" "$3" "$etag" | aws_json cloudfront-keyvaluestore put-key >/dev/null
}

# Prints the value of a key, or nothing when the key is absent.
get_key() { # arn key
  aws cloudfront-keyvaluestore get-key --kvs-arn "$1" --key "$2" --query 'Value' --output text 2>/dev/null || true
}

origin_rule_arn() { # listener
  local arn
  arn="$(aws elbv2 describe-rules --listener-arn "$1" --query "Rules[?Priority=='$ORIGIN_RULE_PRIORITY'].RuleArn | [0]" --output text)"
  [[ "$arn" == "None" ]] && arn=''
  printf '%s' "$arn"
}

header_condition() { # values (JSON array body, e.g. "a","b")
  printf '[{"Field":"http-header","HttpHeaderConfig":{"HttpHeaderName":"%s","Values":[%s]}}]' "$ORIGIN_HEADER" "$1"
}

set_rule_values() { # rule values
  printf '{"RuleArn":"%s","Conditions":%s}' "$1" "$(header_condition "$2")" | aws_json elbv2 modify-rule >/dev/null
}

[[ $# -ge 2 ]] || usage
command="$1"
shift
reject_options "$@"

case "$command" in
  entry)
    fail "edge.auth.users was removed (no password hash in Terraform state): add users with '$0 put STORE USERNAME'"
    ;;
  init)
    (($# == 3)) || usage
    arn="$(store_arn "$1")"
    check_arn listener "$2"
    check_arn targetgroup "$3"
    if [[ -z "$(get_key "$arn" "$SESSION_SECRET_KEY")" ]]; then
      put_key "$arn" "$SESSION_SECRET_KEY" "$(random_token 48)"
      echo "Created $SESSION_SECRET_KEY in $arn." >&2
    fi
    origin="$(get_key "$arn" "$ORIGIN_SECRET_KEY")"
    if [[ -z "$origin" ]]; then
      origin="$(random_token 48)"
      put_key "$arn" "$ORIGIN_SECRET_KEY" "$origin"
      echo "Created $ORIGIN_SECRET_KEY in $arn." >&2
    fi
    rule="$(origin_rule_arn "$2")"
    if [[ -z "$rule" ]]; then
      printf '{"ListenerArn":"%s","Priority":%d,"Conditions":%s,"Actions":[{"Type":"forward","TargetGroupArn":"%s"}]}' \
        "$2" "$ORIGIN_RULE_PRIORITY" "$(header_condition "\"$origin\"")" "$3" | aws_json elbv2 create-rule >/dev/null
      echo "Created the listener rule forwarding requests with $ORIGIN_HEADER (everything else gets 403)." >&2
    else
      set_rule_values "$rule" "\"$origin\""
      echo "Listener rule $rule requires the current $ORIGIN_HEADER value." >&2
    fi
    ;;
  put)
    (($# == 2)) || usage
    username="$2"
    check_username "$username"
    arn="$(store_arn "$1")"
    # 18 random bytes -> 24 URL-safe characters (144 bits): safe with one fast hash.
    password="$(random_token 18)"
    put_key "$arn" "$KEY_PREFIX$username" "$(printf '%s:%s' "$username" "$password" | sha256_hex)"
    echo "Stored $KEY_PREFIX$username in $arn (live at the edge within seconds)." >&2
    echo "Generated password for $username (shown once): $password" >&2
    ;;
  delete)
    (($# == 2)) || usage
    check_username "$2"
    arn="$(store_arn "$1")"
    printf '{"KvsARN":"%s","Key":"%s","IfMatch":"%s"}' "$arn" "$KEY_PREFIX$2" "$(store_etag "$arn")" | aws_json cloudfront-keyvaluestore delete-key >/dev/null
    echo "Deleted $KEY_PREFIX$2 from $arn." >&2
    ;;
  rotate-sessions)
    (($# == 1)) || usage
    arn="$(store_arn "$1")"
    put_key "$arn" "$SESSION_SECRET_KEY" "$(random_token 48)"
    echo "Replaced $SESSION_SECRET_KEY in $arn: browsers sign in again (Basic prompt or cached credentials) on their next page load." >&2
    ;;
  rotate-origin)
    (($# == 2)) || usage
    arn="$(store_arn "$1")"
    check_arn listener "$2"
    rule="$(origin_rule_arn "$2")"
    [[ -n "$rule" ]] || fail "no origin rule on $2: run '$0 init' first"
    old="$(get_key "$arn" "$ORIGIN_SECRET_KEY")"
    [[ -n "$old" ]] || fail "no $ORIGIN_SECRET_KEY in $arn: run '$0 init' first"
    new="$(random_token 48)"
    # Both values pass while edge locations pick up the new one; then only the new one.
    set_rule_values "$rule" "\"$old\",\"$new\""
    put_key "$arn" "$ORIGIN_SECRET_KEY" "$new"
    sleep "${ORIGIN_ROTATION_WAIT_SECONDS:-60}"
    set_rule_values "$rule" "\"$new\""
    echo "Replaced $ORIGIN_SECRET_KEY in $arn and on listener rule $rule." >&2
    ;;
  *)
    usage
    ;;
esac

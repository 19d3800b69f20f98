# SPDX-License-Identifier: GPL-2.0-or-later
# keyprov/helpers/atrestfs-exec-lib.sh - sourced by the shell key helpers
# of the atrestfs "exec" provider (atrestfs-keyprov(7), EXEC PROVIDER).
#
# Reads the request from stdin into REQ_* variables and the helper's
# config file (its path is the request's "config" line, set in
# providers.conf) into CONF_* variables.  Secrets stay in shell variables
# and pipes: a CLI gets them on stdin, never in argv (/proc/PID/cmdline is
# world-readable) and never in the environment.  stderr goes to
# atrestfs's log: never print a secret there.

set -u
umask 077

# answer LINE...: the reply, then a blank line
answer() {
	printf '%s\n' "$@" ""
}

# die ERRNO TEXT: the error reply; exit 1
die() {
	answer "error $1 $(printf '%s' "$2" | tr -d '\r\n' | cut -c1-400)"
	exit 1
}

read_request() {
	local line name value
	IFS= read -r line || die EINVAL "empty request"
	[ "$line" = "atrestfs-exec 1" ] || die EINVAL "unknown protocol"
	REQ_op='' REQ_config='' REQ_aad='' REQ_data='' REQ_key_id='' REQ_key_version=''
	while IFS= read -r line && [ -n "$line" ]; do
		name=${line%% *}
		value=${line#* }
		case $name in
		op|config|aad|data|key_id|key_version|volume|mode)
			printf -v "REQ_$name" '%s' "$value" ;;
		esac
	done
	[ "$REQ_op" = "${1:-}" ] || die EINVAL "operation '$REQ_op' does not match argv '${1:-}'"
}

# read_config NAME...: "name = value" lines; the NAMEs are required
read_config() {
	local line name value need
	[ -n "$REQ_config" ] || die EINVAL "no config file (set exec.config in providers.conf)"
	[ -r "$REQ_config" ] || die EINVAL "cannot read $REQ_config"
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		case $line in *=*) ;; *) continue ;; esac
		name=$(printf '%s' "${line%%=*}" | tr -d ' \t')
		value=$(printf '%s' "${line#*=}" | sed 's/^[ \t]*//; s/[ \t]*$//')
		case $name in
		*[!A-Za-z0-9_]*|'') continue ;;
		esac
		printf -v "CONF_$name" '%s' "$value"
	done <"$REQ_config"
	for need in "$@"; do
		[ -n "$(eval "printf '%s' \"\${CONF_$need:-}\"")" ] ||
			die EINVAL "$REQ_config lacks $need"
	done
}

# conf NAME [DEFAULT]
conf() {
	eval "printf '%s' \"\${CONF_$1:-${2:-}}\""
}

# b64url_to_b64: stdin base64url (maybe unpadded) -> stdout padded base64
b64url_to_b64() {
	local s
	s=$(tr -d '\n' | tr '_-' '/+')
	while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
	printf '%s' "$s"
}

b64_to_b64url() {
	tr -d '\n=' | tr '/+' '_-'
}

# classify TEXT: errno name for a CLI's error output
classify() {
	case $1 in
	*[Tt]imed\ out*|*[Tt]imeout*) echo ETIMEDOUT ;;
	*[Cc]onnection\ refused*|*[Cc]ould\ not\ connect*|*[Nn]ame\ or\ service*|*dial\ tcp*|*[Nn]etwork\ is\ unreachable*|*[Tt]emporary\ failure\ in\ name*) echo EAGAIN ;;
	*AccessDenied*|*[Pp]ermission\ denied*|*Forbidden*|*[Uu]nauthori[sz]ed*|*[Nn]ot\ logged\ in*|*az\ login*|*[Ee]xpired*) echo EACCES ;;
	*NotFound*|*[Nn]ot\ found*|*[Nn]o\ such\ key*|*KeyNotFound*) echo ENOKEY ;;
	*InvalidCiphertext*|*[Aa]uthentication\ failed*|*[Dd]ecryption\ failed*|*BadParameter*|*[Ii]nvalid\ ciphertext*) echo EBADMSG ;;
	*) echo EIO ;;
	esac
}

# need_cli NAME: the CLI is installed, else EAGAIN (the service is absent)
need_cli() {
	command -v "$1" >/dev/null 2>&1 || die EAGAIN "$1 is not installed (PATH=$PATH)"
}

# tests/multihost/lib.sh - two "hosts" sharing one volume over GlusterFS;
# source it after nothing else (it sources tests/integration/lib.sh).
#
# One glusterd (own log and pid file, unless one already runs, which is
# then used and left running), one single-brick volume on loopback with a
# name of its own, two independent Gluster FUSE clients (each its own
# caches: two machines as far as atrestfs can tell) and, over each, one
# atrestfs daemon on the same volume with the same key file and a state
# directory of its own.  mh_cleanup, run on any exit, unmounts everything,
# stops and deletes the Gluster volume and ends the glusterd it started.
# A timeout of the suite's own, shorter than the harness's (900 s), and a
# TERM turned into an exit, so that the cleanup below runs before anyone
# sends SIGKILL: a Gluster volume or client left mounted would outlive us.
if [ -z "${MH_TIMED:-}" ]; then
	MH_TIMED=1 exec timeout -k 120 "${MH_TIMEOUT:-400}" bash "$0" "$@"
fi
trap 'exit 143' TERM INT
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

GL_VOL=atrmh$$x$RANDOM
GL_PID=
GL_STARTED=0
GL_MADE=0

mh_cleanup() {
	local rc=$? m n i p
	if [ $rc != 0 ] && [ $rc != 77 ]; then
		for m in "$WORK"/a.log "$WORK"/b.log; do
			[ -s "$m" ] && { echo "--- $m:"; tail -20 "$m"; } >&2
		done
	fi
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${MOUNTS[i]}
		n=$(mounts_name "$m")
		if grep -qsF " $n " /proc/mounts; then
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	for p in "${PIDS[@]}"; do
		timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	PIDS=()
	if [ $GL_MADE = 1 ]; then
		timeout 60 gluster --mode=script volume stop "$GL_VOL" force >/dev/null 2>&1
		timeout 60 gluster --mode=script volume delete "$GL_VOL" >/dev/null 2>&1 ||
			echo "mh_cleanup: cannot delete gluster volume $GL_VOL" >&2
	fi
	if [ $GL_STARTED = 1 ] && [ -n "$GL_PID" ]; then
		kill "$GL_PID" 2>/dev/null
		timeout 20 tail --pid="$GL_PID" -f /dev/null 2>/dev/null
		kill -9 "$GL_PID" 2>/dev/null
	fi
	cleanup
}
trap mh_cleanup EXIT

# GlusterFS installed (Debian's packages), or exit 77 if it cannot be.
mh_need_gluster() {
	command -v glusterd >/dev/null && command -v glusterfs >/dev/null &&
		command -v gluster >/dev/null && return 0
	if command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -y -q install \
			glusterfs-server glusterfs-client >"$WORK/apt.log" 2>&1 ||
			{ DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -q update >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -y -q install \
				glusterfs-server glusterfs-client >"$WORK/apt.log" 2>&1; }
	fi
	command -v glusterd >/dev/null && command -v glusterfs >/dev/null &&
		command -v gluster >/dev/null && return 0
	echo "SKIP: GlusterFS (glusterfs-server, glusterfs-client) cannot be installed" >&2
	exit 77
}

# Volumes of this suite left by a run killed before its cleanup (SIGKILL):
# their bricks, in a scratch directory removed since, are gone.
mh_stale() {
	local v b
	for v in $(gluster --mode=script volume list 2>/dev/null | grep '^atrmh'); do
		b=$(gluster --mode=script volume info "$v" 2>/dev/null |
			sed -n 's/^Brick1: [^:]*://p')
		[ -n "$b" ] && [ ! -d "$b" ] || continue
		timeout 60 gluster --mode=script volume stop "$v" force >/dev/null 2>&1
		timeout 60 gluster --mode=script volume delete "$v" >/dev/null 2>&1
	done
}

# mh_gluster: glusterd up, the volume made and started, clients on
# $WORK/g1 and $WORK/g2.
mh_gluster() {
	local i c
	mh_need_gluster
	GL_PID=$(pidof -s glusterd || true)
	if [ -z "$GL_PID" ]; then
		glusterd --log-file="$WORK/glusterd.log" --pid-file="$WORK/glusterd.pid" ||
			fail "glusterd does not start: $(tail -5 "$WORK/glusterd.log")"
		GL_STARTED=1
		for i in $(seq 100); do
			[ -s "$WORK/glusterd.pid" ] && break
			sleep 0.1
		done
		GL_PID=$(cat "$WORK/glusterd.pid" 2>/dev/null)
		[ -n "$GL_PID" ] || fail "glusterd wrote no pid file"
	fi
	for i in $(seq 100); do
		gluster --mode=script volume list >/dev/null 2>&1 && break
		sleep 0.2
	done
	mh_stale
	mkdir -p "$WORK/brick"
	gluster --mode=script volume create "$GL_VOL" "$(hostname):$WORK/brick/b" force \
		>"$WORK/gl.out" 2>&1 || fail "gluster volume create: $(cat "$WORK/gl.out")"
	GL_MADE=1
	# Gluster's client-side caches off: a write must reach the brick
	# before its fsync returns and a read must not be served from a
	# client's cache, or no lock taken above can make two clients agree
	# (README, "Sharing a volume between machines").
	for o in write-behind io-cache read-ahead quick-read stat-prefetch \
		open-behind readdir-ahead; do
		gluster --mode=script volume set "$GL_VOL" performance.$o off \
			>"$WORK/gl.out" 2>&1 || fail "gluster volume set performance.$o off: $(cat "$WORK/gl.out")"
	done
	gluster --mode=script volume start "$GL_VOL" >"$WORK/gl.out" 2>&1 ||
		fail "gluster volume start: $(cat "$WORK/gl.out")"
	# The clients' kernel caches off too, as README says for any FUSE
	# cluster client: data not through the page cache, attributes and
	# names asked for every time.
	for c in g1 g2; do
		mkdir -p "$WORK/$c"
		MOUNTS+=("$WORK/$c")
		glusterfs --volfile-server=127.0.0.1 --volfile-id="$GL_VOL" \
			--direct-io-mode=enable --attribute-timeout=0 \
			--entry-timeout=0 --negative-timeout=0 \
			--log-file="$WORK/$c.gl.log" "$WORK/$c" ||
			fail "gluster client $c: $(tail -5 "$WORK/$c.gl.log")"
		for i in $(seq 100); do
			grep -qsF " $(mounts_name "$WORK/$c") fuse.glusterfs " /proc/mounts && break
			sleep 0.1
		done
		grep -qsF " $(mounts_name "$WORK/$c") fuse.glusterfs " /proc/mounts ||
			fail "gluster client $c did not mount"
	done
}

# mh_volume [init options...]: a volume in the Gluster volume, key
# $WORK/vol.key; host A's backing is $WORK/g1/vol, host B's $WORK/g2/vol.
mh_volume() {
	mkdir -p "$WORK/g1/vol"
	"$ATR" init -q --keyfile "$WORK/vol.key" --names plain "$@" "$WORK/g1/vol" ||
		fail "init over gluster"
	local i
	for i in $(seq 50); do
		[ -e "$WORK/g2/vol/atrestfs.conf" ] && return 0
		sleep 0.1
	done
	fail "host B does not see the volume host A made"
}

# mh_mount HOST [mount options...]: HOST is a or b; the mount is $WORK/HOST,
# its state directory $WORK/state-HOST.
mh_mount() {
	local h=$1 g
	shift
	case $h in a) g=g1 ;; b) g=g2 ;; *) fail "mh_mount: host $h" ;; esac
	mkdir -p "$WORK/state-$h"
	mount_with "$WORK/$g/vol" "$WORK/$h" --keyfile "$WORK/vol.key" \
		--state-dir "$WORK/state-$h" "$@"
}

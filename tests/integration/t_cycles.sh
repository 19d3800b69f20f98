#!/usr/bin/env bash
# The short form of "make stress"'s endurance part: 5 times untar a tree of
# 500 files and rm -rf it.  Once the kernel has forgotten the tree, the
# daemon must hold no more descriptors than after the first cycle: an inode,
# a file handle or a key whose descriptor outlives it shows here.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/stress/cycles.sh"

C=$WORK/c M=$WORK/m
make_tarball "$WORK/tree.tar" 500
new_volume "$C"
mount_vol "$C" "$M"
run_cycles "$M" "$WORK/tree.tar" 5
for i in 2 3 4 5; do
	[ "${CYC_FDS[i]}" -le "${CYC_FDS[1]}" ] ||
		fail "the daemon held ${CYC_FDS[i]} descriptors after cycle $i, ${CYC_FDS[1]} after cycle 1"
done
unmount_vol "$M"
ok "5 untar/rm cycles of 500 files: the daemon's descriptors stayed at ${CYC_FDS[1]}"

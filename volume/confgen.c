// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * volume/confgen.c - refuse an older atrestfs.conf: compare the config's
 * generation with the highest this machine has recorded for the volume,
 * and raise the record.
 * Owns the state record "config" and its body; the state directory and
 * the record's authentication are state.c's.
 *
 * The config MAC depends only on the KEK, so an older copy of
 * atrestfs.conf put back in the backing directory still verifies, with
 * the keyslots, access policy and audit setting it had then.  Only a
 * record kept elsewhere can tell it from the newest.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../crypto/codec.h"
#include "../crypto/msg.h"
#include "volume_private.h"

#define BODY_MAX	32	/* "generation 4294967295\n" and a NUL */

/* "generation N\n" to N.  Authentic, but -EBADMSG if it is not that. */
static int parse_gen(char *body, uint32_t *gen)
{
	char *nl = strchr(body, '\n');
	uint64_t v;

	if (strncmp(body, "generation ", 11) || !nl || nl[1])
		return -EBADMSG;
	*nl = '\0';
	if (dec_parse_u64(body + 11, 0, UINT32_MAX, &v))
		return -EBADMSG;
	*gen = (uint32_t)v;
	return 0;
}

/* The recorded generation into @seen; its err, with @msg. */
static int read_gen(const struct state_dir *sd, const struct kek *kek,
		    struct confgen_seen *seen, char *msg, size_t msglen)
{
	char body[BODY_MAX];
	int err;

	seen->gen = 0;
	err = state_get(sd, kek, CONFGEN_RECORD, body, sizeof(body), msg,
			msglen);
	/*
	 * Authentic but not what this version writes: refused like a forged
	 * one, since neither says which generation was seen.
	 */
	if (err == -ENOSPC || (!err && parse_gen(body, &seen->gen)))
		err = msg_fail(msg, msglen, -EBADMSG, "state record %s/%s does "
			       "not hold a config generation", sd->path,
			       CONFGEN_RECORD);
	seen->err = err;
	return err;
}

static int write_gen(const struct state_dir *sd, const struct kek *kek,
		     uint32_t gen, char *msg, size_t msglen)
{
	char body[BODY_MAX];

	snprintf(body, sizeof(body), "generation %u\n", gen);
	return state_put(sd, kek, CONFGEN_RECORD, body, msg, msglen);
}

static int lock(const struct state_dir *sd, char *msg, size_t msglen)
{
	int err = state_lock(sd);

	if (err)
		msg_fail(msg, msglen, err, "cannot lock state directory %s: %s",
			 sd->path, strerror(-err));
	return err;
}

int confgen_check(const struct state_dir *sd, const struct vol_config *cfg,
		  const struct kek *kek, struct confgen_seen *seen, char *msg,
		  size_t msglen)
{
	int err;

	if (msglen)
		msg[0] = '\0';
	seen->err = -ENOENT;
	seen->gen = 0;
	err = lock(sd, msg, msglen);
	if (err)
		return err;
	/* Under the lock: a concurrent store cannot be lowered by us. */
	err = read_gen(sd, kek, seen, msg, msglen);
	if (!err && seen->gen > cfg->generation) {
		err = msg_fail(msg, msglen, -ESTALE, VOL_CONF_NAME " is "
			       "generation %u, but generation %u was seen on "
			       "this machine (%s/%s)", cfg->generation,
			       seen->gen, sd->path, CONFGEN_RECORD);
	} else if (err == -ENOENT || (!err && seen->gen < cfg->generation) ||
		   (!err && kek->retiring)) {
		/*
		 * During a KEK rotation the record is rewritten under the new
		 * key even when current, before the old key is destroyed.
		 */
		/* The config is fine; a record that fails to be written is not. */
		err = 0;
		if (!write_gen(sd, kek, cfg->generation, msg, msglen) && msglen)
			msg[0] = '\0';
	}
	state_unlock(sd);
	return err;
}

int confgen_trust(const struct state_dir *sd, const struct vol_config *cfg,
		  const struct kek *kek, struct confgen_seen *seen, char *msg,
		  size_t msglen)
{
	int err;

	seen->err = -ENOENT;
	seen->gen = 0;
	err = lock(sd, msg, msglen);
	if (err)
		return err;
	read_gen(sd, kek, seen, msg, msglen);
	if (msglen)
		msg[0] = '\0';
	err = write_gen(sd, kek, cfg->generation, msg, msglen);
	state_unlock(sd);
	return err;
}

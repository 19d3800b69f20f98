// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tests/fuzz/gen_corpus.c - the seed inputs of the fuzz targets: valid
 * records of each format, made by atrestfs's own writers under the fixed
 * keys of fuzz.h, so that the fuzzer starts past the MAC and GCM checks
 * and mutates what atrestfs really writes.  "make fuzz-corpus" writes them
 * into tests/fuzz/corpus/NAME/seed-*; they are committed (a few hundred
 * bytes each), and regenerating changes their random nonces only.
 *
 * Usage: gen_corpus DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../crypto/codec.h"
#include "../../crypto/hdr.h"
#include "../../crypto/hdrbak.h"
#include "../../crypto/meta.h"
#include "../../crypto/names.h"
#include "../../crypto/verrec.h"
#include "../../crypto/volume.h"
#include "../../fs/fs_private.h"
#include "../../keyprov/keyprov_private.h"
#include "../../volume/volume_private.h"
#include "fuzz.h"
#include "fuzz_audit.h"
#include "fuzz_dir.h"

static const char *out_dir;

static void die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

/* @out_dir/@target/seed-@n holds @len bytes of @data. */
static void seed(const char *target, int n, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/seed-%d", out_dir, target, n);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die(path);
}

static void seed_str(const char *target, int n, const char *s)
{
	seed(target, n, s, strlen(s));
}

/* The whole file @dirfd/@name as a seed. */
static void seed_file(const char *target, int n, int dirfd, const char *name)
{
	static uint8_t buf[65536];
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (len < 0)
		die(name);
	close(fd);
	seed(target, n, buf, (size_t)len);
}

static void gen_hdr(struct hdr *h)
{
	struct file_key *fk;
	uint8_t b[HDR_SIZE];

	if (hdr_create(fuzz_kek(), EXTENT_DEFAULT_SIZE, 0, h, &fk))
		die("hdr_create");
	hdr_build(h, b);
	seed("hdr", 1, b, sizeof(b));
	if (hdr_rewrap(fuzz_kek(), 1u << 16, fk, HDR_F_DATA | HDR_F_VER, h))
		die("hdr_rewrap");
	hdr_build(h, b);
	seed("hdr", 2, b, sizeof(b));
	file_key_free(fk);
}

static void gen_extent(void)
{
	static const struct { uint8_t idx; bool last; size_t len; } e[] = {
		{ 0, true, 100 }, { 0, false, EXTENT_DEFAULT_SIZE },
		{ 5, true, 1 },
	};
	uint8_t plain[EXTENT_DEFAULT_SIZE], disk[1 + EXTENT_DEFAULT_SIZE +
						 EXTENT_OVERHEAD];
	size_t i;

	memset(plain, 'a', sizeof(plain));
	for (i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		disk[0] = (uint8_t)(e[i].idx << 1 | e[i].last);
		if (extent_seal(fuzz_fk(), e[i].idx, e[i].last, plain, e[i].len,
				disk + 1))
			die("extent_seal");
		seed("extent", (int)i + 1, disk, 1 + e[i].len + EXTENT_OVERHEAD);
	}
}

static void gen_records(void)
{
	struct verrec v = { .counter = 7, .size = 5000, .tag = "last tag 16 byte" };
	uint8_t sp[EXTENT_SPARSE_LEN], rec[VERREC_LEN];

	if (extent_sparse_seal(fuzz_fk(), sp))
		die("extent_sparse_seal");
	seed("sparse", 1, sp, sizeof(sp));
	if (verrec_seal(fuzz_fk(), &v, rec))
		die("verrec_seal");
	seed("verrec", 1, rec, sizeof(rec));
	v = (struct verrec){ .counter = 8, .flags = VERREC_F_DIRTY };
	if (verrec_seal(fuzz_fk(), &v, rec))
		die("verrec_seal");
	seed("verrec", 2, rec, sizeof(rec));
}

/* A long target: its backing target, NUL, its record. */
static void gen_meta_long(void)
{
	uint8_t id[META_LINK_ID_LEN] = { 1, 2, 3 }, *b;
	char target[3100], name[META_LINK_LONG_LEN + 1];
	size_t n;

	memset(target, 'x', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	meta_link_long_name(id, sizeof(target) - 1, name);
	n = strlen(name);
	b = malloc(1 + n + 1 + sizeof(target) - 1 + AEAD_OVERHEAD);
	if (!b)
		die("malloc");
	b[0] = 2;
	memcpy(b + 1, name, n + 1);
	if (meta_link_long_seal(fuzz_kek(), id, target, b + 1 + n + 1))
		die("meta_link_long_seal");
	seed("meta", 3, b, 1 + n + 1 + sizeof(target) - 1 + AEAD_OVERHEAD);
	free(b);
}

static void gen_meta(void)
{
	static const char name[] = "user.comment", val[] = "written at 9";
	uint8_t buf[1 + sizeof(name) + sizeof(val) + AEAD_OVERHEAD];
	char *link;
	uint8_t *b;
	size_t n;

	if (meta_link_seal(fuzz_kek(), NULL, "../shared/notes.txt", &link))
		die("meta_link_seal");
	n = strlen(link);
	b = malloc(n + 1);
	if (!b)
		die("malloc");
	b[0] = 0;			/* a symlink target */
	memcpy(b + 1, link, n);
	seed("meta", 1, b, n + 1);
	free(b);
	free(link);
	buf[0] = 1;			/* an xattr value */
	memcpy(buf + 1, name, sizeof(name));
	if (meta_xattr_seal(fuzz_kek(), NULL, name, val, sizeof(val) - 1,
			    buf + 1 + sizeof(name)))
		die("meta_xattr_seal");
	seed("meta", 2, buf, 1 + sizeof(name) + sizeof(val) - 1 + AEAD_OVERHEAD);
	buf[0] = 5;			/* bound to fuzz_meta.c's value ID */
	if (meta_xattr_seal(fuzz_kek(), (const uint8_t[META_VID_LEN]){ 0x56,
			    0x49, 0x44 }, name, val, sizeof(val) - 1,
			    buf + 1 + sizeof(name)))
		die("meta_xattr_seal");
	seed("meta", 4, buf, 1 + sizeof(name) + sizeof(val) - 1 +
	     AEAD_OVERHEAD);
	gen_meta_long();
}

/* A short and a long name's backing forms, one base64url, one record. */
static void gen_names(void)
{
	char name[201], buf[1 + NAMES_BACKING_MAX + 1 + NAMES_ENC_MAX + 1];
	struct names_enc e;
	size_t n;

	if (names_encrypt(NULL, fuzz_names_key, fuzz_dirid, "report.txt", &e))
		die("names_encrypt");
	buf[0] = 0;			/* a backing name */
	strcpy(buf + 1, e.full);
	seed("names", 1, buf, 1 + strlen(e.full));
	memset(name, 'L', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	if (names_encrypt(NULL, fuzz_names_key, fuzz_dirid, name, &e) || !e.is_long)
		die("names_encrypt long");
	strcpy(buf + 1, e.full);
	seed("names", 2, buf, 1 + strlen(e.full));
	buf[0] = 1;			/* base64url */
	strcpy(buf + 1, "aGVsbG8gd29ybGQ");
	seed_str("names", 3, buf);
	buf[0] = 2;			/* a long name and its record */
	n = strlen(e.backing);
	memcpy(buf + 1, e.backing, n + 1);
	memcpy(buf + 2 + n, e.full, strlen(e.full));
	seed("names", 4, buf, 2 + n + strlen(e.full));
}

/* A keyslot with @wrapped_len bytes of @fill as its wrapped KEK. */
static void slot(struct vol_keyslot *ks, const char *provider,
		 const char *key_id, uint32_t version, const char *alg,
		 uint8_t fill)
{
	snprintf(ks->provider, sizeof(ks->provider), "%s", provider);
	snprintf(ks->key_id, sizeof(ks->key_id), "%s", key_id);
	ks->key_version = version;
	snprintf(ks->algorithm, sizeof(ks->algorithm), "%s", alg);
	memset(ks->wrapped, fill, 60);
	ks->wrapped_len = 60;
}

/* A config as atrestfs writes it, MACed with the fixed KEK; it must parse. */
static void gen_conf(int n, bool opts)
{
	static struct vol_config c, back;
	struct vol_keyslot *ks = &c.slots[1];
	char msg[512], *text;

	memset(&c, 0, sizeof(c));
	c.format_version = VOL_FORMAT_VERSION;
	c.generation = 3;
	memcpy(c.uuid, fuzz_uuid, VOL_UUID_LEN);
	c.extent_size = EXTENT_DEFAULT_SIZE;
	memcpy(c.kek_id, fuzz_kek_id, KEK_ID_LEN);
	c.nslots = opts ? 2 : 1;
	slot(&c.slots[0], "keyfile", "/etc/atrestfs/keys/k.key", 1,
	     "AES-256-GCM", 0x5a);
	if (opts) {
		slot(ks, "passphrase", "passphrase", 2, "scrypt+AES-256-GCM",
		     0xa5);
		ks->number = 1;
		ks->nparams = 2;
		snprintf(ks->params[0].key, sizeof(ks->params[0].key), "n");
		snprintf(ks->params[0].value, sizeof(ks->params[0].value), "131072");
		snprintf(ks->params[1].key, sizeof(ks->params[1].key), "salt");
		snprintf(ks->params[1].value, sizeof(ks->params[1].value), "c2FsdA==");
		snprintf(c.opt.audit_file, sizeof(c.opt.audit_file),
			 "/var/log/atrestfs-audit.log");
		c.opt.audit_syslog = true;
		c.opt.nuids = 2;
		c.opt.allow_uids[0] = 0;
		c.opt.allow_uids[1] = 1000;
		c.opt.ngids = 1;
		c.opt.allow_gids[0] = 100;
	}
	if (vol_mac(fuzz_kek(), &c, c.mac))
		die("vol_mac");
	text = vol_text(&c, false);
	if (!text)
		die("vol_text");
	if (volconf_parse(text, strlen(text), &back, msg, sizeof(msg)) ||
	    vol_verify(fuzz_kek(), &back))
		die(msg);
	seed_str("conf", n, text);
	free(text);
}

static void gen_exec(void)
{
	uint8_t k1[32];
	char b64[b64_enc_len(sizeof(k1)) + 1], reply[256];

	seed_str("exec", 1, "ok\nkey_id kms/atrestfs-root\nkey_version 3\n"
		 "algorithm KMIP\n\n");
	memset(k1, 0x42, sizeof(k1));
	b64_encode(k1, sizeof(k1), b64);
	snprintf(reply, sizeof(reply), "ok\ndata %s\n\n", b64);
	seed_str("exec", 2, reply);
	seed_str("exec", 3, "error ENOKEY the KMS has no key kms/old\n");
}

static void gen_hdrbak(const struct hdr *h)
{
	static struct hdrbak_entry e;
	static char text[3 * HDRBAK_LINE_MAX];
	size_t o;

	if (hdrbak_head(fuzz_uuid, fuzz_kek_id, text, sizeof(text)))
		die("hdrbak_head");
	o = strlen(text);
	hdr_build(h, e.hdr);
	snprintf(e.path, sizeof(e.path), "docs/plan.txt");
	e.backing = 4124;
	if (hdrbak_format(&e, text + o, sizeof(text) - o))
		die("hdrbak_format");
	o += strlen(text + o);
	snprintf(e.path, sizeof(e.path), "a dir/\\tab\there");
	e.has_sparse = e.has_ver = true;
	memset(e.sparse, 1, sizeof(e.sparse));
	memset(e.ver, 2, sizeof(e.ver));
	if (hdrbak_format(&e, text + o, sizeof(text) - o))
		die("hdrbak_format");
	seed_str("hdrbak", 1, text);
}

/* A state record and a journal of file versions, as a mount leaves them. */
static void gen_state(void)
{
	static const uint8_t id2[FILE_ID_LEN] = "another file id.";
	struct state_dir sd;
	struct fstate *fs;
	char msg[1024];

	if (state_open(&sd, fuzz_dir(), fuzz_uuid, msg, sizeof(msg)) ||
	    state_put(&sd, fuzz_kek(), CONFGEN_RECORD, "generation 4\n", msg,
		      sizeof(msg)))
		die(msg);
	seed_file("state", 1, sd.fd, CONFGEN_RECORD);
	if (fstate_open(sd.fd, sd.path, fuzz_kek(), fuzz_uuid, &fs, msg,
			sizeof(msg)) < 0)
		die(msg);
	fstate_put(fs, fuzz_file_id, 3);
	fstate_put(fs, id2, 1);
	fstate_put(fs, fuzz_file_id, 4);
	fstate_put(fs, id2, 0);
	fstate_free(fs);
	seed_file("filestate", 1, sd.fd, FSTATE_NAME);
	state_close(&sd);
}

/* A mount's runtime record, with the fields fs/runtime.c writes. */
static void gen_runtime(void)
{
	struct state_dir sd;
	char msg[512];

	if (state_open(&sd, fuzz_dir(), fuzz_uuid, msg, sizeof(msg)) ||
	    state_put(&sd, fuzz_kek(), "mount-0-42", "pid 4242\nstart 1234567\n"
		      "source /srv/vol\nmountpoint /mnt/vol\noptions ro,noatime\n"
		      "log /var/log/atrestfs.log\nerror 2026-01-01T00:00:00Z "
		      "error: file X: bad extent\n", msg, sizeof(msg)))
		die(msg);
	seed_file("runtime", 1, sd.fd, "mount-0-42");
	state_close(&sd);
}

/*
 * Audit logs as the writer leaves them: a clean chain; and one after
 * records of an older atrestfs, with a record a failed write cut short.
 */
static void gen_auditchain(void)
{
	char log[2048];
	size_t n = 0;

	if (fuzz_audit_append(log, &n, sizeof(log), "{\"event\":\"mount\"}") ||
	    fuzz_audit_append(log, &n, sizeof(log), "{\"event\":\"key\"}") ||
	    fuzz_audit_append(log, &n, sizeof(log), "{\"event\":\"umount\"}"))
		die("audit log");
	seed("auditchain", 1, log, n);
	n = strlen(strcpy(log, "{\"event\":\"old\"}\n"));
	if (fuzz_audit_append(log, &n, sizeof(log), "{\"event\":\"mount\"}"))
		die("audit log");
	memcpy(log + n, "{\"event\":\"cu", 13);
	n += 13;
	if (fuzz_audit_append(log, &n, sizeof(log), "{\"event\":\"umount\"}"))
		die("audit log");
	seed("auditchain", 2, log, n);
}

int main(int argc, char **argv)
{
	struct hdr h;

	if (argc != 2)
		die("usage: gen_corpus DIR");
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) && errno != EEXIST)
		die(out_dir);
	gen_hdr(&h);
	gen_extent();
	gen_records();
	gen_meta();
	gen_names();
	gen_conf(1, false);
	gen_conf(2, true);
	gen_exec();
	gen_hdrbak(&h);
	gen_state();
	gen_auditchain();
	gen_runtime();
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tests/fuzz/fuzz.h - what the libFuzzer targets and their seed generator
 * (gen_corpus.c) share: fixed keys, so that the committed seeds are valid
 * records under the same KEK and DEK the targets open them with, and the
 * fuzzer starts from inputs that reach past the authentication checks.
 * The keys are test constants, never a volume's.
 */
#ifndef ATR_FUZZ_H
#define ATR_FUZZ_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/extent.h"
#include "../../crypto/kek.h"

static const uint8_t fuzz_raw_kek[KEK_LEN] = "atrestfs fuzz test KEK, 32 bytes";
static const uint8_t fuzz_kek_id[KEK_ID_LEN] = "fuzz KEK ID 16 B";
static const uint8_t fuzz_uuid[VOL_UUID_LEN] = "fuzz volume uuid";
static const uint8_t fuzz_dek[AEAD_KEY_LEN] = "atrestfs fuzz test DEK, 32 bytes";
static const uint8_t fuzz_file_id[FILE_ID_LEN] = "fuzz file ID 16B";
/* AES-256-SIV: 64 bytes. */
static const uint8_t fuzz_names_key[AEAD_SIV_KEY_LEN] =
	"atrestfs fuzz test names key, 64 bytes: AES-256-SIV CMAC and CTR";
static const uint8_t fuzz_dirid[16] = "fuzz dir ID 16 B";

/* The fixed KEK, made once and kept for the process (a fuzzer's life). */
static inline const struct kek *fuzz_kek(void)
{
	static struct kek *kek;

	if (!kek && kek_derive(fuzz_raw_kek, fuzz_kek_id, fuzz_uuid, &kek))
		abort();
	return kek;
}

/* The fixed file key: not secmem, as it is no secret. */
static inline const struct file_key *fuzz_fk(void)
{
	static struct file_key fk;

	memcpy(fk.dek, fuzz_dek, sizeof(fk.dek));
	memcpy(fk.file_id, fuzz_file_id, sizeof(fk.file_id));
	return &fk;
}

/* @data as a NUL-terminated string (malloc()ed: ASan sees overreads). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif

/* Event-data decoders, device paths, signature lists and bounded text: the
 * real structures of the vectors decode, and every short or inconsistent
 * one is refused instead of being read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "efi_devpath.h"
#include "efi_siglist.h"
#include "efi_text.h"
#include "evlog.h"
#include "evlog_decode.h"
#include "test_evlog_util.h"

static struct evlog_event event_of(uint32_t type, const void *data, size_t len)
{
	struct evlog_event ev = {.pcr = 0, .type = type, .data = data, .data_len = len};

	return ev;
}

static const struct evlog_event *find_event(const struct evlog *log, uint32_t type, size_t nth)
{
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);

		if (ev->type == type && nth-- == 0)
			return ev;
	}
	fail_msg("no event of type 0x%x", type);
	return NULL;
}

static void describe(const struct evlog_event *ev, char *out, size_t cap)
{
	evlog_describe(ev, out, cap);
	assert_true(strlen(out) < cap);
}

/* What an operator sees for the OVMF log made here. */
static void test_descriptions_of_a_real_log(void **state)
{
	struct evlog *log = vector_log("qemu_ovmf_q35.bin");
	char text[256];

	(void)state;
	describe(find_event(log, EV_EFI_VARIABLE_DRIVER_CONFIG, 0), text, sizeof(text));
	assert_string_equal(text, "SecureBoot (8be4df61-93ca-11d2-aa0d-00e098032b8c) = 00");
	describe(find_event(log, EV_EFI_BOOT_SERVICES_APPLICATION, 0), text, sizeof(text));
	assert_non_null(strstr(text, ": VenMedia(1428f772-b64a-441e-b8c3-9ebdd7f893c7)/kernel"));
	describe(find_event(log, EV_EFI_BOOT_SERVICES_DRIVER, 0), text, sizeof(text));
	assert_non_null(strstr(text, "PciRoot(0x0)/Pci(0x2,0x0)/Offset(0x12600,0x3cfff)"));
	describe(find_event(log, EV_EFI_VARIABLE_BOOT, 1), text, sizeof(text));
	assert_string_equal(text, "Boot0000 (8be4df61-93ca-11d2-aa0d-00e098032b8c) \"UiApp\" "
				  "Fv(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/"
				  "FvFile(462caa21-7614-4503-836e-8ab6f4662331)");
	describe(find_event(log, EV_EFI_PLATFORM_FIRMWARE_BLOB, 0), text, sizeof(text));
	assert_string_equal(text, "0xe0000 bytes at 0x820000");
	describe(find_event(log, EV_EVENT_TAG, 1), text, sizeof(text));
	assert_string_equal(text, "tag 0x8f3b22ec: Linux initrd");
	describe(find_event(log, EV_NO_ACTION, 0), text, sizeof(text));
	assert_string_equal(text, "Spec ID Event03 (29 more bytes)");
	describe(find_event(log, EV_EFI_ACTION, 1), text, sizeof(text));
	assert_string_equal(text, "Exit Boot Services Invocation");
	/* A line cut at the caller's size ends in "...". */
	describe(find_event(log, EV_EFI_VARIABLE_BOOT, 1), text, 20);
	assert_string_equal(text, "Boot0000 (8be4df...");
	evlog_free(log);
	log = vector_log("gtt_glinux-alex.bin");
	describe(find_event(log, EV_NO_ACTION, 1), text, sizeof(text));
	assert_string_equal(text, "StartupLocality 3");
	evlog_free(log);
	log = vector_log("gtt_arch-linux-workstation.bin");
	describe(find_event(log, EV_EFI_VARIABLE_BOOT, 1), text,
		 sizeof(text)); /* after BootOrder */
	assert_non_null(strstr(text, "\"Linux Boot Manager\" HD(1,GPT,1a504613-19b5-4b44-a83d-"
				     "d926d40daa1c,0x800,0x80000)/\\EFI\\SYSTEMD\\SYSTEMD-"));
	evlog_free(log);
	assert_string_equal(evlog_type_name(EV_EFI_HANDOFF_TABLES2), "EV_EFI_HANDOFF_TABLES2");
	assert_string_equal(evlog_type_name(0x12345), "EV_UNKNOWN");
}

/* systemd-boot measures the kernel command line as UTF-16LE (PCR 12 or 8). */
static void test_utf16_strings(void **state)
{
	static const uint8_t cmdline[] = {'r', 0, 'o', 0, ' ', 0, 'q', 0, 0, 0};
	static const uint8_t control[] = {'a', 0, 0x1b, 0, 'b', 0};
	struct evlog_event ev = event_of(EV_IPL, cmdline, sizeof(cmdline));
	char text[64];

	(void)state;
	assert_true(evlog_data_is_utf16(cmdline, sizeof(cmdline)));
	assert_false(evlog_data_is_utf16(cmdline, 3));
	assert_false(evlog_data_is_utf16((const uint8_t *)"grub_cmd", 8));
	describe(&ev, text, sizeof(text));
	assert_string_equal(text, "ro q");
	assert_true(utf16_contains(cmdline, 4, "O q"));
	assert_false(utf16_contains(cmdline, 3, "o q"));
	/* An escape character never reaches a terminal. */
	ev = event_of(EV_IPL, control, sizeof(control));
	describe(&ev, text, sizeof(text));
	assert_string_equal(text, "a...b"); /* not UTF-16 text: shown byte-wise */
}

/* UEFI_VARIABLE_DATA whose lengths claim more than the event holds. */
static void test_variable_lengths_are_bounded(void **state)
{
	struct logbuf b = {.len = 0};
	struct efi_variable v;
	struct evlog_event ev;

	(void)state;
	lb_put(&b, efi_global_variable_guid, 16);
	lb_u32(&b, 2); /* name units, low half */
	lb_u32(&b, 0);
	lb_u32(&b, 1); /* data length, low half */
	lb_u32(&b, 0);
	lb_put(&b, "P\0K\0\x01", 5);
	ev = event_of(EV_EFI_VARIABLE_DRIVER_CONFIG, b.bytes, b.len);
	assert_true(evlog_decode_variable(&ev, &v));
	assert_true(efi_variable_is(&v, efi_global_variable_guid, "PK"));
	assert_false(efi_variable_is(&v, efi_global_variable_guid, "PKX"));
	assert_false(efi_variable_is(&v, efi_image_security_database_guid, "PK"));
	assert_int_equal(v.data_len, 1);
	/* One byte short, one byte too many, a 2^63 name length. */
	ev.data_len = b.len - 1;
	assert_false(evlog_decode_variable(&ev, &v));
	lb_put(&b, "", 1);
	ev.data_len = b.len;
	assert_false(evlog_decode_variable(&ev, &v));
	b.bytes[23] = 0x80;
	assert_false(evlog_decode_variable(&ev, &v));
}

static void test_other_decoders_refuse_short_data(void **state)
{
	uint8_t buf[64] = {0};
	struct efi_image_load img;
	struct efi_blob blob;
	struct efi_handoff h;
	struct evlog_tagged tag;
	struct efi_load_option opt;
	struct evlog_event ev;

	(void)state;
	ev = event_of(EV_EFI_BOOT_SERVICES_APPLICATION, buf, 32);
	assert_true(evlog_decode_image_load(&ev, &img)); /* empty device path */
	buf[24] = 1;					 /* a device path longer than the event */
	assert_false(evlog_decode_image_load(&ev, &img));
	ev = event_of(EV_EFI_PLATFORM_FIRMWARE_BLOB, buf, 16);
	assert_true(evlog_decode_blob(&ev, &blob));
	ev.data_len = 15;
	assert_false(evlog_decode_blob(&ev, &blob));
	buf[0] = 40; /* BLOB2 description longer than the event */
	ev = event_of(EV_EFI_PLATFORM_FIRMWARE_BLOB2, buf, 20);
	assert_false(evlog_decode_blob(&ev, &blob));
	memset(buf, 0, sizeof(buf));
	buf[0] = 2; /* two tables, one entry's worth of bytes */
	ev = event_of(EV_EFI_HANDOFF_TABLES, buf, 8 + 24);
	assert_false(evlog_decode_handoff(&ev, &h));
	buf[0] = 1;
	assert_true(evlog_decode_handoff(&ev, &h));
	memset(buf, 0, sizeof(buf));
	buf[4] = 9; /* tagged data longer than the event */
	ev = event_of(EV_EVENT_TAG, buf, 12);
	assert_false(evlog_decode_tagged(&ev, &tag));
	/* A load option description without its NUL inside. */
	memset(buf, 'A', sizeof(buf));
	buf[4] = 0;
	buf[5] = 0;
	assert_false(efi_decode_load_option(buf, sizeof(buf), &opt));
}

static void test_device_path_walk(void **state)
{
	/* PciRoot(0x0)/Pci(0x1f,0x2), a node claiming 0x40 bytes, End. */
	static const uint8_t dp[] = {0x02, 0x01, 0x0C, 0x00, 0xD0, 0x41, 0x03, 0x0A, 0,
				     0,	   0,	 0,    0x01, 0x01, 0x06, 0x00, 0x02, 0x1F,
				     0x04, 0x03, 0x40, 0x00, 0x7F, 0xFF, 0x04, 0x00};
	static const uint8_t short_node[] = {0x01, 0x01, 0x03, 0x00};
	char out[128];
	struct textbuf t;
	struct efi_dp_node n;
	size_t off = 0;
	bool malformed;

	(void)state;
	textbuf_init(&t, out, sizeof(out));
	efi_dp_text(&t, dp, 18);
	assert_string_equal(out, "PciRoot(0x0)/Pci(0x1f,0x2)");
	textbuf_init(&t, out, sizeof(out));
	efi_dp_text(&t, dp, sizeof(dp));
	assert_string_equal(out, "PciRoot(0x0)/Pci(0x1f,0x2)/<malformed>");
	assert_false(efi_dp_next(short_node, sizeof(short_node), &off, &n, &malformed));
	assert_true(malformed);
	off = 1000; /* an offset past the end is the end, not a read */
	assert_false(efi_dp_next(dp, sizeof(dp), &off, &n, &malformed));
	assert_false(malformed);
}

static void test_signature_lists(void **state)
{
	struct logbuf b = {.len = 0};
	struct efi_siglist_iter it;
	struct efi_signature sig;

	(void)state;
	/* One SHA-256 list with two signatures. */
	lb_put(&b, efi_cert_sha256_guid, 16);
	lb_u32(&b, 28 + 2 * 48);
	lb_u32(&b, 0);
	lb_u32(&b, 48);
	lb_fill(&b, 0x11, 96);
	efi_siglist_begin(&it, b.bytes, b.len);
	assert_int_equal(efi_siglist_next(&it, &sig), EFI_SIGLIST_NEXT);
	assert_int_equal(sig.len, 32);
	assert_memory_equal(sig.type, efi_cert_sha256_guid, 16);
	assert_int_equal(efi_siglist_next(&it, &sig), EFI_SIGLIST_NEXT);
	assert_int_equal(efi_siglist_next(&it, &sig), EFI_SIGLIST_END);
	/* The list size says one byte more than the signatures fill. */
	b.bytes[16] += 1;
	lb_put(&b, "", 1);
	efi_siglist_begin(&it, b.bytes, b.len);
	assert_int_equal(efi_siglist_next(&it, &sig), EFI_SIGLIST_MALFORMED);
	assert_int_equal(efi_siglist_next(&it, &sig), EFI_SIGLIST_MALFORMED); /* sticky */
	/* A signature size below the owner GUID. */
	b.bytes[16] -= 1;
	b.bytes[24] = 8;
	efi_siglist_begin(&it, b.bytes, b.len - 1);
	assert_int_equal(efi_siglist_next(&it, &sig), EFI_SIGLIST_MALFORMED);
}

/* The certificates in a real db: Microsoft's two CAs among them. */
static void test_real_db_certificates(void **state)
{
	struct evlog *log = vector_log("gtt_rhel8-uefi.bin");
	struct efi_siglist_iter it;
	struct efi_signature sig;
	struct efi_variable v;
	size_t certs = 0;

	(void)state;
	for (size_t i = 0; i < evlog_event_count(log); i++) {
		const struct evlog_event *ev = evlog_event_at(log, i);

		if (ev->type == EV_EFI_VARIABLE_DRIVER_CONFIG && evlog_decode_variable(ev, &v) &&
		    efi_variable_is(&v, efi_image_security_database_guid, "db"))
			break;
	}
	efi_siglist_begin(&it, v.data, v.data_len);
	while (efi_siglist_next(&it, &sig) == EFI_SIGLIST_NEXT) {
		assert_memory_equal(sig.type, efi_cert_x509_guid, 16);
		assert_int_equal(sig.data[0], 0x30); /* a DER SEQUENCE */
		certs++;
	}
	assert_true(certs >= 2);
	evlog_free(log);
}

static void test_textbuf_bounds(void **state)
{
	char out[8];
	struct textbuf t;
	static const uint8_t guid[16] = {0x61, 0xDF, 0xE4, 0x8B, 0xCA, 0x93, 0xD2, 0x11,
					 0xAA, 0x0D, 0x00, 0xE0, 0x98, 0x03, 0x2B, 0x8C};

	(void)state;
	textbuf_init(&t, out, sizeof(out));
	textbuf_printf(&t, "%s", "abc");
	textbuf_ascii(&t, (const uint8_t *)"d\ne", 3);
	assert_string_equal(out, "abcd.e");
	assert_false(t.truncated);
	textbuf_printf(&t, "%s", "fgh");
	assert_true(t.truncated);
	assert_string_equal(out, "abcd...");
	textbuf_hex(&t, guid, 16); /* ignored once cut */
	assert_string_equal(out, "abcd...");
	textbuf_init(&t, NULL, 0); /* no room at all: nothing written */
	textbuf_printf(&t, "x");
	assert_true(t.truncated);
	{
		char g[40];

		textbuf_init(&t, g, sizeof(g));
		textbuf_guid(&t, guid);
		assert_string_equal(g, "8be4df61-93ca-11d2-aa0d-00e098032b8c");
	}
	assert_true(ascii_contains((const uint8_t *)"GCE Virtual Firmware", 20, "virtual f"));
	assert_false(ascii_contains((const uint8_t *)"GCE", 3, "GCE "));
	assert_true(ascii_contains((const uint8_t *)"x", 1, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_descriptions_of_a_real_log),
	    cmocka_unit_test(test_utf16_strings),
	    cmocka_unit_test(test_variable_lengths_are_bounded),
	    cmocka_unit_test(test_other_decoders_refuse_short_data),
	    cmocka_unit_test(test_device_path_walk),
	    cmocka_unit_test(test_signature_lists),
	    cmocka_unit_test(test_real_db_certificates),
	    cmocka_unit_test(test_textbuf_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

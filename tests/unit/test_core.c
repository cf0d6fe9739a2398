/* core/: config loader, addresses, rows, metrics. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/conf.h"
#include "core/log_limit.h"
#include "core/metrics.h"
#include "core/rows.h"

static int load(const char *text, struct conf **conf, char *err)
{
	return conf_load_buf(text, strlen(text), "t.conf", conf, err, CONF_ERR_MAX);
}

static void test_core_conf_defaults_are_the_table(void **state)
{
	(void)state;
	struct conf *conf;
	assert_int_equal(conf_defaults(&conf), 0);
	assert_int_equal(conf->log_level, LOG_LVL_INFO);
	assert_true(conf->stun_udp_enabled);
	char s[ADDR_STR_MAX];
	assert_string_equal(addr_str((struct sockaddr *)&conf->stun_udp_listen, s, sizeof(s)),
	                    "0.0.0.0:3478");
	assert_string_equal(conf->software, "edgelab");
	conf_unref(conf);
}

/* conf/edgelab.conf documents every key with its default value. */
static void test_core_conf_sample_documents_every_key(void **state)
{
	(void)state;
	char path[512], err[CONF_ERR_MAX], line[512];
	snprintf(path, sizeof(path), "%s/conf/edgelab.conf",
	         getenv("SRCDIR") ? getenv("SRCDIR") : ".");
	struct conf *conf;
	assert_int_equal(conf_load_file(path, &conf, err, sizeof(err)), 0);
	conf_unref(conf);
	for (size_t i = 0; i < conf_key_count(); i++) {
		const struct conf_key_info *k = conf_key_at(i);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		int found = 0;
		while (fgets(line, sizeof(line), f)) {
			char key[64], value[256];
			if (sscanf(line, "%63s %255s", key, value) == 2 && !strcmp(key, k->name)) {
				assert_string_equal(value, k->default_value);
				found = 1;
			}
		}
		fclose(f);
		/* A repeatable key with no default is shown as a commented example. */
		if (!found && !k->default_value[0]) {
			char want[80];
			snprintf(want, sizeof(want), "# %s ", k->name);
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				found |= strncmp(line, want, strlen(want)) == 0;
			if (f)
				fclose(f);
		}
		if (!found)
			fail_msg("key %s is not in conf/edgelab.conf", k->name);
	}
}

static void test_core_conf_error_names_the_line(void **state)
{
	(void)state;
	struct conf *conf;
	char err[CONF_ERR_MAX];
	assert_int_equal(load("# comment\n\nworkers 2\nbogus 1\n", &conf, err), EINVAL);
	assert_string_equal(err, "t.conf:4: unknown key 'bogus'");
	assert_int_equal(load("workers 99\n", &conf, err), EINVAL);
	assert_string_equal(err, "t.conf:1: workers: bad value '99' (expected a number 0..64)");
	assert_int_equal(load("workers 1\nworkers 2\n", &conf, err), EINVAL);
	assert_string_equal(err, "t.conf:2: duplicate key 'workers' (first set on line 1)");
	assert_int_equal(load("  software\n", &conf, err), EINVAL);
	assert_string_equal(err, "t.conf:1: software: missing value");
	assert_int_equal(load("software 0123456789012345678901234567890123\n", &conf, err), EINVAL);
	assert_int_equal(load("stun_udp_listen 10.0.0.1:0\n", &conf, err), EINVAL);
	assert_int_equal(load("control_socket relative/path\n", &conf, err), EINVAL);
}

static void test_core_conf_partners(void **state)
{
	(void)state;
	struct conf *conf;
	char err[CONF_ERR_MAX];
	assert_true(conf_key_count() <= CONF_KEYS_MAX);
	assert_int_equal(load("federation_partner partner.example sip.partner.example:5062\n"
	                      "federation_partner other.example\n"
	                      "federation_partner third.example 192.0.2.7\n",
	                      &conf, err),
	                 0);
	assert_int_equal(conf->n_partners, 3);
	assert_string_equal(conf->partners[0].host, "sip.partner.example");
	assert_int_equal(conf->partners[0].port, 5062);
	assert_string_equal(conf->partners[1].host, "");
	assert_int_equal(conf->partners[2].port, 5061);
	conf_unref(conf);
	/* IPv6 hosts, bare or bracketed with a port; the dump reloads (fuzz_conf). */
	assert_int_equal(load("federation_partner a.example ::1\n"
	                      "federation_partner b.example [2001:db8::5]:5070\n",
	                      &conf, err),
	                 0);
	assert_string_equal(conf->partners[0].host, "::1");
	assert_string_equal(conf->partners[1].host, "2001:db8::5");
	assert_int_equal(conf->partners[1].port, 5070);
	conf_unref(conf);
	static const char *const bad[] = {
	    "federation_partner bad_domain\n",
	    "federation_partner a.example b.example c\n",
	    "federation_partner a.example host:0\n",
	    "federation_partner a.example\nfederation_partner A.example\n",
	    "sip_domain -bad.example\n",
	    "edge_fqdn a..example\n",
	    "tls_ca relative/ca.pem\n",
	    "tls_federation_ca relative/ca.pem\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(load(bad[i], &conf, err), EINVAL);
	assert_true(conf_dns_name_valid("sip.edge.example"));
	assert_false(conf_dns_name_valid("sip.edge.example."));
	assert_false(conf_dns_name_valid("a-.example"));
}

/* tls_federation_ca: auto is tls_ca's file, wherever tls_ca is set; a path
 * of its own is the partners' CA alone; the dump says auto and reloads. */
static void test_core_conf_federation_ca(void **state)
{
	(void)state;
	struct conf *conf;
	char err[CONF_ERR_MAX];
	assert_int_equal(load("tls_federation_ca auto\ntls_ca /pki/a.pem\n", &conf, err), 0);
	assert_string_equal(conf_federation_ca(conf), "/pki/a.pem");
	assert_string_equal(conf->tls_ca, "/pki/a.pem");
	conf_unref(conf);
	assert_int_equal(load("tls_ca /pki/a.pem\ntls_federation_ca /pki/b.pem\n", &conf, err), 0);
	assert_string_equal(conf_federation_ca(conf), "/pki/b.pem");
	assert_string_equal(conf->tls_ca, "/pki/a.pem");
	conf_unref(conf);
	assert_int_equal(conf_defaults(&conf), 0);
	assert_string_equal(conf_federation_ca(conf), "/etc/edgelab/pki/ca.pem");
	char *dump = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&dump, &len);
	conf_dump(conf, f);
	fclose(f);
	assert_non_null(strstr(dump, "\ntls_federation_ca              auto\n"));
	free(dump);
	conf_unref(conf);
}

/* The HTTPS control API's keys: off by default; a port is needed; names
 * once each, at most 16; and conf_check wants credentials with a listener. */
static void test_core_conf_control_https(void **state)
{
	(void)state;
	struct conf *conf;
	char err[CONF_ERR_MAX], s[ADDR_STR_MAX], line[64], many[17 * 24] = "";
	assert_int_equal(conf_defaults(&conf), 0);
	assert_false(conf->control_listen_enabled);
	assert_int_equal(conf->n_control_clients, 0);
	assert_string_equal(conf->control_token_file, "");
	assert_int_equal(conf->control_max_connections, 32);
	assert_int_equal(conf->control_trigger_rate, 20);
	assert_int_equal(conf_check(conf, err, sizeof(err)), 0);
	conf_unref(conf);
	assert_int_equal(load("control_listen 127.0.0.1:8443\ncontrol_client probe.lab\n"
	                      "control_client Other.Lab\ncontrol_token_file /etc/edgelab/token\n",
	                      &conf, err),
	                 0);
	assert_true(conf->control_listen_enabled);
	assert_string_equal(addr_str((struct sockaddr *)&conf->control_listen, s, sizeof(s)),
	                    "127.0.0.1:8443");
	assert_int_equal(conf->n_control_clients, 2);
	assert_string_equal(conf->control_clients[1], "Other.Lab");
	assert_string_equal(conf->control_token_file, "/etc/edgelab/token");
	assert_int_equal(conf_check(conf, err, sizeof(err)), 0);
	conf_unref(conf);
	assert_int_equal(load("control_listen 127.0.0.1\n", &conf, err), EINVAL); /* no port */
	assert_int_equal(load("control_listen 127.0.0.1:0\n", &conf, err), EINVAL);
	assert_int_equal(load("control_client a.lab\ncontrol_client A.LAB\n", &conf, err), EINVAL);
	assert_string_equal(err,
	                    "t.conf:2: control_client: bad value 'A.LAB' (expected a DNS name, "
	                    "each once, at most 16)");
	assert_int_equal(load("control_client not_a_name\n", &conf, err), EINVAL);
	assert_int_equal(load("control_token_file token.txt\n", &conf, err), EINVAL);
	assert_int_equal(load("control_max_connections 0\n", &conf, err), EINVAL);
	assert_int_equal(load("control_trigger_rate 0\n", &conf, err), EINVAL);
	for (int i = 0; i < 17; i++) {
		snprintf(line, sizeof(line), "control_client c%d.lab\n", i);
		strcat(many, line);
	}
	assert_int_equal(load(many, &conf, err), EINVAL);
	assert_non_null(strstr(err, "t.conf:17: control_client"));
	/* A listener with no way in: the conf is refused as a whole. */
	assert_int_equal(load("control_listen [::1]:8443\n", &conf, err), 0);
	assert_int_equal(conf_check(conf, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "control_listen needs credentials"));
	assert_int_equal(conf_set(conf, "control_token_file", "/t", err, sizeof(err)), 0);
	assert_int_equal(conf_check(conf, err, sizeof(err)), 0);
	assert_int_equal(conf_set(conf, "control_token_file", "off", err, sizeof(err)), 0);
	assert_int_equal(conf_set(conf, "control_client", "probe.lab", err, sizeof(err)), 0);
	assert_int_equal(conf_check(conf, err, sizeof(err)), 0);
	conf_unref(conf);
}

static void test_core_conf_values_parse(void **state)
{
	(void)state;
	struct conf *conf;
	char err[CONF_ERR_MAX], s[ADDR_STR_MAX];
	assert_int_equal(load("  log_level   debug  \nstun_udp_listen [::1]:5000\n"
	                      "stun_tcp_listen off\nsoftware My Edge 1.0\nlog_json yes",
	                      &conf, err),
	                 0);
	assert_int_equal(conf->log_level, LOG_LVL_DEBUG);
	assert_true(conf->log_json);
	assert_string_equal(addr_str((struct sockaddr *)&conf->stun_udp_listen, s, sizeof(s)),
	                    "[::1]:5000");
	assert_false(conf->stun_tcp_enabled);
	assert_string_equal(conf->software, "My Edge 1.0");
	assert_int_equal(conf_set(conf, "workers", "3", err, sizeof(err)), 0);
	assert_int_equal(conf->workers, 3);
	assert_int_equal(conf_set(conf, "nope", "3", err, sizeof(err)), EINVAL);
	conf_unref(conf);
}

static void test_core_addr_parse_and_print(void **state)
{
	(void)state;
	struct sockaddr_storage sa, un;
	char s[ADDR_STR_MAX];
	static const struct {
		const char *in, *out;
	} ok[] = {{"1.2.3.4", "1.2.3.4:7"},
	          {"1.2.3.4:99", "1.2.3.4:99"},
	          {"::1", "[::1]:7"},
	          {"[2001:db8::1]:443", "[2001:db8::1]:443"},
	          {"[::]", "[::]:7"}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(addr_parse(ok[i].in, 7, &sa), 0);
		assert_string_equal(addr_str((struct sockaddr *)&sa, s, sizeof(s)), ok[i].out);
	}
	static const char *const bad[] = {"",          "1.2.3",  "1.2.3.4:",  "1.2.3.4:65536",
	                                  "[::1",      "[::1]x", "::1:99:zz", "host.example",
	                                  "1.2.3.4:-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_parse(bad[i], 7, &sa), EINVAL);
	assert_int_equal(addr_parse("[::ffff:192.0.2.1]:5", 0, &sa), 0);
	addr_unmap((struct sockaddr *)&sa, &un);
	assert_string_equal(addr_str((struct sockaddr *)&un, s, sizeof(s)), "192.0.2.1:5");
}

static void test_core_rows_mask(void **state)
{
	(void)state;
	unsigned m;
	assert_int_equal(rows_parse_mask("1,6", &m), 0);
	assert_int_equal(m, (1u << 1) | (1u << 6));
	assert_int_equal(rows_parse_mask("all", &m), 0);
	assert_int_equal(m, 0x7eu);
	assert_int_equal(rows_parse_mask("built", &m), 0);
	assert_int_equal(m, 0x7eu); /* every row is built */
	static const char *const bad[] = {"", "0", "7", "1,", ",1", "1;2", "x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rows_parse_mask(bad[i], &m), EINVAL);
	assert_int_equal(rows_get(4)->src_port_min, 50000);
	assert_null(rows_get(7));
}

static const char *const colours[] = {"red", "green", "blue"};
static const char *const sizes[] = {"small", "large"};
static struct metric_family two_labels = {
    "edgelab_test_things_total",
    METRIC_COUNTER,
    "things, by colour and size",
    {METRIC_LABEL("colour", colours), METRIC_LABEL("size", sizes)},
    0};
static struct metric_family level = {"edgelab_test_level", METRIC_GAUGE, "a level",
                                     METRIC_NO_LABELS, 0};
static struct metric_family never_registered = {"edgelab_test_lost_total", METRIC_COUNTER,
                                                "counted before registration", METRIC_NO_LABELS, 0};

static void test_core_metrics_sum_and_render(void **state)
{
	(void)state;
	struct metric_family *const families[] = {&two_labels, &level, NULL};
	struct metrics *m;
	assert_int_equal(metrics_register(families), 0);
	unsigned first = two_labels.first;
	assert_true(first > 0);
	assert_int_equal(metrics_register(families), 0); /* idempotent: same slots */
	assert_int_equal(two_labels.first, first);
	assert_int_equal(level.first, first + 6);
	assert_int_equal(metrics_alloc(&m, 3), 0);
	size_t blue_large = metrics_label2(&two_labels, 2, 1);
	metrics_inc(metrics_shard(m, 1), &two_labels, blue_large);
	metrics_add(metrics_shard(m, 2), &two_labels, blue_large, 4);
	metrics_add(metrics_shard(m, 0), &level, 0, 7);
	metrics_add(metrics_shard(m, 1), &level, 0, -2);
	/* A family counted before it is registered writes to the sink: lost,
	 * never another family's count. */
	metrics_add(metrics_shard(m, 1), &never_registered, 0, 1000);
	assert_int_equal(metrics_get(m, &two_labels, blue_large), 5);
	assert_int_equal(metrics_get(m, &two_labels, 0), 0);
	assert_int_equal(metrics_get(m, &never_registered, 0), 0);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(metrics_render(m, f), 0);
	fclose(f);
	assert_non_null(
	    strstr(text, "edgelab_test_things_total{colour=\"blue\",size=\"large\"} 5\n"));
	assert_non_null(
	    strstr(text, "edgelab_test_things_total{colour=\"red\",size=\"small\"} 0\n"));
	assert_non_null(strstr(text, "# TYPE edgelab_test_things_total counter\n"));
	assert_non_null(strstr(text, "# TYPE edgelab_test_level gauge\nedgelab_test_level 5\n"));
	assert_null(strstr(text, "edgelab_test_lost_total"));
	assert_non_null(strstr(text, "edgelab_workers 2\n"));
	free(text);
	metrics_free(m);
}

static void test_core_metrics_register_refuses_bad_families(void **state)
{
	(void)state;
	static const char *const many[METRICS_LABELS_MAX + 1] = {"x"};
	static struct metric_family too_many = {
	    "edgelab_test_wide_total",
	    METRIC_COUNTER,
	    "too many label values",
	    {{"v", many, METRICS_LABELS_MAX + 1}, {NULL, NULL, 0}},
	    0};
	static struct metric_family unnamed = {NULL, METRIC_COUNTER, "no name", METRIC_NO_LABELS,
	                                       0};
	struct metric_family *const wide[] = {&too_many, NULL};
	struct metric_family *const anon[] = {&unnamed, NULL};
	assert_int_equal(metrics_register(wide), EINVAL);
	assert_int_equal(metrics_register(anon), EINVAL);
	assert_int_equal(too_many.first, 0);
}

/* A burst passes, the rest is held back and counted, the next line after
 * the refill says how many; the clock going backwards refills nothing. */
static void test_core_log_limit(void **state)
{
	struct log_limit l = {0};
	unsigned held = 99;
	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(log_limit_pass(&l, 1000, 2, 3, &held));
		assert_int_equal(held, 0);
	}
	for (int i = 0; i < 5; i++)
		assert_false(log_limit_pass(&l, 1000, 2, 3, &held));
	assert_false(log_limit_pass(&l, 1499, 2, 3, &held)); /* 0.998 of a line */
	assert_true(log_limit_pass(&l, 1500, 2, 3, &held));
	assert_int_equal(held, 6);
	assert_false(log_limit_pass(&l, 1500, 2, 3, &held));
	assert_false(log_limit_pass(&l, 900, 2, 3, &held)); /* back: nothing refilled */
	assert_true(log_limit_pass(&l, 1400, 2, 3, &held)); /* ... but counted from there */
	assert_int_equal(held, 2);
	assert_true(log_limit_pass(&l, 100000, 2, 3, &held)); /* refilled to the burst only */
	assert_int_equal(held, 0);
	assert_true(log_limit_pass(&l, 100000, 2, 3, &held));
	assert_true(log_limit_pass(&l, 100000, 2, 3, &held));
	assert_false(log_limit_pass(&l, 100000, 2, 3, &held));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_core_conf_defaults_are_the_table),
	    cmocka_unit_test(test_core_conf_sample_documents_every_key),
	    cmocka_unit_test(test_core_conf_error_names_the_line),
	    cmocka_unit_test(test_core_conf_values_parse),
	    cmocka_unit_test(test_core_conf_control_https),
	    cmocka_unit_test(test_core_conf_partners),
	    cmocka_unit_test(test_core_conf_federation_ca),
	    cmocka_unit_test(test_core_addr_parse_and_print),
	    cmocka_unit_test(test_core_rows_mask),
	    cmocka_unit_test(test_core_log_limit),
	    cmocka_unit_test(test_core_metrics_sum_and_render),
	    cmocka_unit_test(test_core_metrics_register_refuses_bad_families),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}

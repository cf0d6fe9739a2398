# Two federated edges on loopback for the IM tests (POSIX sh; source it
# after tests/lib.sh). fed_edges_start [LINE_A...] writes a lab set per site
# with a CA of its own (edgelab pki: pki-a for sip.a.example in a.example,
# pki-b for sip.b.example in b.example), each edge's tls_ca holding both
# CAs (5061 verifies the partner's certificate), and starts edge A on
# 127.0.0.2 and edge B on 127.0.0.3, each naming the other in a static
# federation_partner line; STUN off, debug logs in $TMP/a.log and b.log,
# control sockets $TMP/a.sock and b.sock. LINE_A... are more lines for
# edge A's configuration. Sets TA, MA, TB, MB (the TLS and MTLS ports),
# PID_A, PID_B, and FED_ALICE, FED_BOB: tests/tools/fed_im's user fields
# (EDGE,FQDN,CA,USER@DOMAIN). Returns 1, said as a failed check, when
# something does not start.
# shellcheck disable=SC2034 # the variables set are for the test sourcing this

# fed_edge_conf SITE IP TLS MTLS PARTNER PARTNER_IP PARTNER_MTLS [LINE...]
fed_edge_conf() {
	printf '%s\n' "stun_udp_listen off" "stun_tcp_listen off" "workers 1" \
		"sip_tls_listen $2:$3" "sip_mtls_listen $2:$4" \
		"sip_domain $1.example" "edge_fqdn sip.$1.example" \
		"tls_certificate $TMP/pki-$1/edge.pem" "tls_key $TMP/pki-$1/edge.key" \
		"tls_ca $TMP/both-cas.pem" "federation_partner $5.example $6:$7" \
		"control_socket $TMP/$1.sock" "log_level debug"
	shift 7
	[ "$#" -eq 0 ] || printf '%s\n' "$@"
}

fed_edges_start() {
	TA=$(free_port)
	MA=$(free_port)
	TB=$(free_port)
	MB=$(free_port)
	for fed_site in a b; do
		fed_other=b
		[ "$fed_site" = a ] || fed_other=a
		"$EDGELAB" pki --out "$TMP/pki-$fed_site" --key-type ec -q \
			--sip-domain "$fed_site.example" --partner-domain "$fed_other.example" ||
			{ not_ok "edgelab pki writes site $fed_site's set"; return 1; }
	done
	cat "$TMP/pki-a/ca.pem" "$TMP/pki-b/ca.pem" >"$TMP/both-cas.pem"
	fed_edge_conf a 127.0.0.2 "$TA" "$MA" b 127.0.0.3 "$MB" "$@" >"$TMP/a.conf"
	fed_edge_conf b 127.0.0.3 "$TB" "$MB" a 127.0.0.2 "$MA" >"$TMP/b.conf"
	serve_start "$TMP/a.conf" "$TMP/a.log" || { not_ok "edge A starts"; return 1; }
	PID_A=$SERVE_PID
	serve_start "$TMP/b.conf" "$TMP/b.log" || { not_ok "edge B starts"; return 1; }
	PID_B=$SERVE_PID
	FED_ALICE="127.0.0.2:$TA,sip.a.example,$TMP/pki-a/ca.pem,alice@a.example"
	FED_BOB="127.0.0.3:$TB,sip.b.example,$TMP/pki-b/ca.pem,bob@b.example"
}

# fed_edges_logs: the ends of both edges' logs, as "#" lines.
fed_edges_logs() {
	for fed_site in a b; do
		echo "# --- edge $fed_site's log (last 60 lines)"
		tail -n 60 "$TMP/$fed_site.log" | sed 's/^/#   /'
	done
}

# Helpers of the install tests (POSIX sh), sourced after tests/lib.sh.

# make without make check's own flags (TESTS=, the jobserver of -j).
plain_make() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }
# make in the build under test.
bmake() { plain_make -s -C "$BUILDDIR" "$@"; }
# install_dirs [VAR=VALUE...]: bindir, mandir, sysconfdir and the unit's
# directory (none without one), as make expands them with those overrides.
install_dirs() {
	printf 'edgelab-dirs:\n\t@echo "$(bindir) $(mandir) $(sysconfdir) $(systemdsystemunitdir)"\n' |
		bmake -f Makefile -f - edgelab-dirs "$@"
}

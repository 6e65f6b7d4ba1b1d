# Copyright 2026 distsetup developers
# Distributed under the terms of the GNU General Public License v2

# Offline, from a checkout: packaging/arch/make-source /var/cache/distfiles writes
# distsetup-0.1.0.tar.gz, the file SRC_URI names; the crates come from CRATES (the
# registry packages of Cargo.lock; tests/it/cli/packaging.rs checks they agree).

EAPI=8

CRATES="
	aho-corasick@1.1.5
	anstream@1.0.0
	anstyle-parse@1.0.0
	anstyle-query@1.1.5
	anstyle-wincon@3.0.11
	anstyle@1.0.14
	anyhow@1.0.104
	asn1-rs-derive@0.6.0
	asn1-rs-impl@0.2.0
	asn1-rs@0.7.2
	autocfg@1.5.1
	base64@0.23.1
	bit-set@0.11.1
	bit-vec@0.10.1
	bit-vec@0.9.1
	bitflags@2.13.2
	block-buffer@0.12.1
	borsh-derive@1.8.1
	borsh@1.8.1
	bstr@1.13.1
	bumpalo@3.20.4
	bytes@1.12.1
	cc@1.11.3
	cfg-if@1.0.5
	cfg_aliases@0.2.2
	chacha20@0.10.2
	clap@4.6.7
	clap_builder@4.6.7
	clap_complete@4.6.11
	clap_derive@4.6.7
	clap_lex@1.1.1
	clap_mangen@0.3.3
	colorchoice@1.0.5
	console@0.16.6
	const-oid@0.10.3
	core_detect@1.0.0
	cpufeatures@0.3.1
	crypto-common@0.2.2
	data-encoding@2.11.1
	der-parser@10.0.0
	deranged@0.5.9
	dialoguer@0.12.0
	digest@0.11.3
	directories@6.0.0
	dirs-sys@0.5.0
	displaydoc@0.2.7
	encode_unicode@1.0.0
	enumflags2@0.7.12
	enumflags2_derive@0.7.12
	equivalent@1.0.3
	errno@0.3.14
	fastrand@2.5.0
	find-msvc-tools@0.1.15
	fnv@1.0.7
	futures-core@0.3.34
	futures-task@0.3.34
	futures-util@0.3.34
	getrandom@0.2.17
	getrandom@0.4.3
	hashbrown@0.17.1
	heck@0.5.0
	humantime@2.4.0
	hybrid-array@0.4.15
	indexmap@2.14.2
	indicatif@0.18.6
	ipnet@2.12.2
	is_terminal_polyfill@1.70.2
	itoa@1.0.19
	jobserver@0.1.35
	js-sys@0.3.107
	landlock@0.4.8
	lazy_static@1.5.1
	libc@0.2.191
	libredox@0.1.25
	linux-raw-sys@0.12.1
	lua-src@551.1.0
	lzo1x@0.2.2
	memchr@2.8.3
	minimal-lexical@0.2.1
	mio@1.2.4
	nom@7.1.3
	nom@8.0.0
	num-bigint@0.4.8
	num-conv@0.1.0
	num-integer@0.1.47
	num-traits@0.2.19
	oid-registry@0.8.1
	once_cell@1.21.4
	once_cell_polyfill@1.70.2
	option-ext@0.2.0
	pem@4.0.0
	pin-project-lite@0.2.17
	pkg-config@0.3.34
	portable-atomic@1.15.0
	powerfmt@0.2.1
	proc-macro-crate@3.5.0
	proc-macro2@1.0.107
	proptest@1.12.0
	quick-error@1.2.3
	quote@1.0.47
	r-efi@6.0.0
	rand@0.10.3
	rand_core@0.10.1
	rand_xorshift@0.5.0
	rcgen@0.14.10
	redox_users@0.5.3
	regex-automata@0.4.18
	regex-syntax@0.8.11
	regex@1.13.1
	ring@0.17.14
	roff@1.1.1
	rusticata-macros@4.1.0
	rustix@1.1.6
	rustls-pki-types@1.16.0
	rustls-webpki@0.103.17
	rustls@0.23.48
	rustversion@1.0.23
	rusty-fork@0.3.1
	seccompiler@0.5.0
	serde@1.0.229
	serde_core@1.0.229
	serde_derive@1.0.229
	serde_json@1.0.154
	serde_spanned@1.1.3
	sha2@0.11.0
	shell-words@1.1.1
	shlex@2.0.1
	signal-hook-registry@1.4.8
	similar@3.2.1
	slab@0.4.12
	socket2@0.6.5
	strsim@0.11.1
	subtle@2.6.1
	syn@2.0.119
	syn@3.0.9
	synstructure@0.13.2
	tempfile@3.27.0
	terminal_size@0.4.4
	thiserror-impl@2.0.21
	thiserror@2.0.21
	time-core@0.1.7
	time-macros@0.2.25
	time@0.3.45
	tokio-macros@2.7.2
	tokio-rustls@0.26.6
	tokio@1.54.1
	toml_datetime@1.1.3+spec-1.1.0
	toml_edit@0.25.18+spec-1.1.0
	toml_parser@1.1.5+spec-1.1.0
	toml_writer@1.2.0+spec-1.1.0
	typenum@1.20.1
	unarray@0.1.4
	unicode-ident@1.0.27
	unicode-width@0.2.3
	unit-prefix@0.5.2
	untrusted@0.9.0
	utf8parse@0.2.2
	wait-timeout@0.2.1
	wasi@0.11.1+wasi-snapshot-preview1
	wasm-bindgen-macro-support@0.2.130
	wasm-bindgen-macro@0.2.130
	wasm-bindgen-shared@0.2.130
	wasm-bindgen@0.2.130
	web-time@1.1.0
	windows-link@0.2.1
	windows-sys@0.52.0
	windows-sys@0.61.2
	windows-targets@0.52.6
	windows_aarch64_gnullvm@0.52.6
	windows_aarch64_msvc@0.52.6
	windows_i686_gnu@0.52.6
	windows_i686_gnullvm@0.52.6
	windows_i686_msvc@0.52.6
	windows_x86_64_gnu@0.52.6
	windows_x86_64_gnullvm@0.52.6
	windows_x86_64_msvc@0.52.6
	winnow@1.0.5
	x509-parser@0.18.1
	yasna@0.6.0
	zeroize@1.9.1
	zmij@1.0.23
	zstd-safe@7.4.2
	zstd-sys@2.2.0+zstd.1.6.0
	zstd@0.13.6
"

RUST_MIN_VER="1.85.0"

inherit cargo shell-completion

DESCRIPTION="Turns a pile of machines into a working distcc build cluster"
HOMEPAGE="https://github.com/distsetup/distsetup"
SRC_URI="
	https://github.com/distsetup/distsetup/archive/v${PV}.tar.gz -> ${P}.tar.gz
	${CARGO_CRATE_URIS}
"

LICENSE="GPL-2+"
# Dependent crate licenses
LICENSE+=" Apache-2.0 BSD MIT Unicode-3.0 ZLIB"
SLOT="0"
KEYWORDS="~amd64 ~arm ~arm64"

RDEPEND="sys-devel/distcc"

QA_FLAGS_IGNORED="usr/bin/${PN}"

src_install() {
	cargo_src_install
	doman man/*.1
	newbashcomp completions/distsetup.bash distsetup
	dozshcomp completions/_distsetup
	dofishcomp completions/distsetup.fish
	einstalldocs
}

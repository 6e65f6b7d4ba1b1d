//! The man pages' own sections beyond `--help`: a DESCRIPTION that explains (what the
//! README explains: ports, where toolchains are looked for, native and cross distccd),
//! a SYNOPSIS with every option's value, EXAMPLES, FILES (every path a command writes),
//! EXIT STATUS and SEE ALSO, around what clap_mangen renders.

/// One page's extra sections. Examples are (what it does, the command line).
struct Extra {
    examples: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    exit: &'static [(&'static str, &'static str)],
    see_also: &'static [&'static str],
}

const BACKUP_AND_JOURNAL: [(&str, &str); 2] = [
    (
        "FILE.distsetup-bak",
        "the original of each file distsetup changes, kept the first time (hidden, .FILE.distsetup-bak, inside Portage's make.conf/ directory)",
    ),
    (
        "/var/lib/distsetup/journal/TIME/",
        "one entry per apply: a manifest and the bytes before and after of each file, read by distsetup undo",
    ),
];

const WRITE_EXIT: [(&str, &str); 5] = [
    ("0", "applied, or nothing to change"),
    (
        "1",
        "--check found pending changes, or changes were shown but not applied (no terminal and no --yes)",
    ),
    (
        "2",
        "input rejected: a syntax error, an edit that cannot be done safely, bad arguments",
    ),
    (
        "3",
        "the system failed: a missing file, permission denied (run it with sudo), a port in use",
    ),
    (
        "4",
        "aborted: declined at the prompt, or a file changed between the diff and applying",
    ),
];

const MASTER_FILES: [(&str, &str); 6] = [
    (
        "/etc/makepkg.conf",
        "BUILDENV, DISTCC_HOSTS, MAKEFLAGS (arch, archarm; debian with makepkg), when there is no makepkg.conf.d/",
    ),
    (
        "/etc/makepkg.conf.d/distcc.conf",
        "the same variables in a drop-in, when the directory exists (pacman 6.1 and later)",
    ),
    (
        "/etc/portage/make.conf",
        "FEATURES and MAKEOPTS (gentoo); in a make.conf/ directory the file that assigns each variable last, else make.conf/distcc.conf",
    ),
    ("/etc/distcc/hosts", "the host list (gentoo, debian)"),
    (
        "/usr/lib/distcc/bin/",
        "makepkg's masquerade links gcc, cc, g++, c++ to ../../../bin/distcc (debian)",
    ),
    BACKUP_AND_JOURNAL[0],
];

const VOLUNTEER_FILES: [(&str, &str); 9] = [
    (
        "/usr/lib/distsetup/TOOLCHAIN/bin/",
        "the alias links (gcc, cc, TRIPLE-gcc, the master's names) to the toolchain's compilers",
    ),
    (
        "/etc/systemd/system/distsetup-serve-TOOLCHAIN.service",
        "the embedded server's unit (systemd profiles)",
    ),
    (
        "/etc/init.d/distsetup-serve-TOOLCHAIN",
        "the embedded server's OpenRC script (gentoo)",
    ),
    (
        "/etc/sv/distsetup-serve-TOOLCHAIN/run",
        "the embedded server's runit service (void)",
    ),
    (
        "/usr/lib/distcc/NAME",
        "with --server distccd: the whitelist link ../../bin/distcc for each name served",
    ),
    (
        "/etc/systemd/system/distccd-SUFFIX.service",
        "with --server distccd: a distccd unit for the toolchain, on its own port",
    ),
    (
        "/etc/conf.d/distccd, /etc/default/distcc, /etc/distcc/clients.allow",
        "the system distccd's configuration: only for a native volunteer (--server distccd with a toolchain for this machine)",
    ),
    BACKUP_AND_JOURNAL[0],
    BACKUP_AND_JOURNAL[1],
];

const SEE_ALSO_ALL: [&str; 4] = ["distcc(1)", "distccd(1)", "makepkg.conf(5)", "make.conf(5)"];

/// Each page's sections; the last one (`distsetup`) is the fallback.
const PAGES: &[(&str, Extra)] = &[
    (
        "distsetup-master",
        Extra {
            examples: &[
                (
                    "Show what would change on an Arch Linux ARM master",
                    "distsetup master --profile archarm --hosts '192.168.1.10:3636/8,lzo' --dry-run",
                ),
                (
                    "Apply on Gentoo, -j from the cores and the remote slots",
                    "sudo distsetup master --profile gentoo --hosts '10.0.0.2/16' --jobs auto --yes",
                ),
                (
                    "Configure a chroot",
                    "sudo distsetup master --profile debian --root /srv/chroot --hosts 10.0.0.2/8 --yes",
                ),
                (
                    "List the profiles that can configure a master",
                    "distsetup master --profile list",
                ),
            ],
            files: &[
                MASTER_FILES[0],
                MASTER_FILES[1],
                MASTER_FILES[2],
                MASTER_FILES[3],
                MASTER_FILES[4],
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &WRITE_EXIT,
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-volunteer",
        Extra {
            examples: &[
                (
                    "Help an aarch64 Arch Linux ARM master with the embedded server",
                    "sudo distsetup volunteer --toolchain x-tools8 --allow 192.168.1.0/24 --enable",
                ),
                (
                    "Debian's cross compiler, in the foreground",
                    "sudo distsetup volunteer --toolchain aarch64-linux-gnu --profile debian --allow 127.0.0.1/32 --port 3640 --yes --foreground",
                ),
                (
                    "The distro's distccd instead",
                    "sudo distsetup volunteer --toolchain x-tools7h --server distccd --allow 192.168.1.0/24",
                ),
            ],
            files: &VOLUNTEER_FILES,
            exit: &WRITE_EXIT,
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-edit",
        Extra {
            examples: &[
                (
                    "Print an array, one element per line",
                    "distsetup edit /etc/makepkg.conf --get BUILDENV",
                ),
                (
                    "Switch distcc on and set the hosts, showing the diff only",
                    "distsetup edit /etc/makepkg.conf --enable BUILDENV=distcc --set 'DISTCC_HOSTS=pi4/3 fastbox/12' --dry-run",
                ),
                (
                    "Check a file round-trips byte for byte",
                    "distsetup edit /etc/conf.d/distccd --dialect envfile --verify",
                ),
            ],
            files: &[
                (
                    "FILE",
                    "the file named, written atomically (temporary file, fsync, rename)",
                ),
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &[
                WRITE_EXIT[0],
                (
                    "1",
                    "--check found pending changes, --get found no assignment, or changes were not applied (no terminal)",
                ),
                (
                    "2",
                    "a syntax error, an unsafe edit, a dynamic value (--get), bad arguments",
                ),
                WRITE_EXIT[3],
                WRITE_EXIT[4],
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-hosts",
        Extra {
            examples: &[
                (
                    "Check a list",
                    "distsetup hosts 'localhost/2 pi4:3632/3,lzo fastbox/12'",
                ),
                (
                    "Check the hosts file",
                    "distsetup hosts --file /etc/distcc/hosts",
                ),
            ],
            files: &[(
                "/etc/distcc/hosts",
                "read with --file; distsetup hosts writes nothing",
            )],
            exit: &[
                ("0", "the list parses"),
                ("2", "a syntax error (FILE:LINE:COLUMN)"),
                ("3", "the file cannot be read"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-undo",
        Extra {
            examples: &[
                ("Take back the last change set", "sudo distsetup undo --yes"),
                (
                    "In a chroot",
                    "sudo distsetup undo --root /srv/chroot --yes",
                ),
            ],
            files: &[(
                "/var/lib/distsetup/journal/TIME/",
                "the newest entry is restored byte for byte, then renamed TIME.undone",
            )],
            exit: &[
                ("0", "restored"),
                (
                    "1",
                    "nothing to undo, or not applied (no terminal and no --yes)",
                ),
                WRITE_EXIT[3],
                (
                    "4",
                    "a file changed after distsetup wrote it: nothing restored",
                ),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-doctor",
        Extra {
            examples: &[
                (
                    "Check the configured hosts and this master's set-up",
                    "distsetup doctor",
                ),
                (
                    "Check a list, give up on silent hosts after 5 s",
                    "distsetup doctor --hosts '192.168.1.10:3636/8,lzo' --timeout 5 --json",
                ),
                (
                    "Check this machine as a volunteer",
                    "distsetup doctor --volunteer",
                ),
            ],
            files: &[(
                "/etc/makepkg.conf, /etc/portage/make.conf, /etc/distcc/hosts",
                "read; distsetup doctor writes nothing",
            )],
            exit: &[
                ("0", "nothing is broken (warnings allowed)"),
                (
                    "1",
                    "something is broken (a check that could not run is a warning: not checked)",
                ),
                ("2", "bad arguments or a host list that does not parse"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-wizard",
        Extra {
            examples: &[
                ("On the real system", "sudo distsetup wizard"),
                ("In a chroot", "distsetup wizard --root /srv/chroot"),
            ],
            files: &[
                (
                    "the files of distsetup master or distsetup volunteer",
                    "see distsetup-master(1), distsetup-volunteer(1)",
                ),
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &[
                ("0", "applied or nothing to change"),
                ("2", "no terminal: nothing asked, nothing written"),
                WRITE_EXIT[3],
                ("4", "declined, or interrupted with Ctrl-C: nothing written"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-serve",
        Extra {
            examples: &[
                (
                    "What a volunteer's unit runs",
                    "distsetup serve --port 3636 --allow 192.168.1.0/24 --toolchain /usr/lib/distsetup/x-tools8/bin --stats --stats-port 4636",
                ),
                (
                    "Answer a Gentoo Pi's names with Debian's cross compiler",
                    "distsetup serve --allow 10.0.0.0/24 --alias armv6j-hardfloat-linux-gnueabi=arm-linux-gnueabihf",
                ),
            ],
            files: &[
                ("$TMPDIR/", "one directory per job, removed on every path"),
                ("--log-file, --pid-file", "written when given"),
            ],
            exit: &[
                (
                    "0",
                    "stopped by SIGTERM or SIGINT after the running jobs finished",
                ),
                (
                    "101",
                    "bad arguments or settings (no --allow, a bad address, an unknown --user); distccd's own status",
                ),
                (
                    "102",
                    "the port is in use or cannot be opened (distccd's status)",
                ),
                ("107", "an I/O error at start (distccd's status)"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-completions",
        Extra {
            examples: &[
                (
                    "bash, for this user",
                    "mkdir -p ~/.local/share/bash-completion/completions && distsetup completions bash > ~/.local/share/bash-completion/completions/distsetup",
                ),
                (
                    "zsh, for this user",
                    "mkdir -p ~/.zfunc && distsetup completions zsh > ~/.zfunc/_distsetup",
                ),
            ],
            files: &[("standard output", "distsetup completions writes no file")],
            exit: &[("0", "printed")],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup",
        Extra {
            examples: &[
                (
                    "Make this machine a volunteer for aarch64 masters",
                    "sudo distsetup volunteer --toolchain x-tools8 --allow 192.168.1.0/24 --enable",
                ),
                (
                    "Configure an Arch Linux ARM master",
                    "sudo distsetup master --profile archarm --hosts '192.168.1.10:3636/8,lzo'",
                ),
                ("Check the cluster", "distsetup doctor"),
                ("Take the last change back", "sudo distsetup undo --yes"),
            ],
            files: &[
                MASTER_FILES[0],
                MASTER_FILES[2],
                MASTER_FILES[3],
                VOLUNTEER_FILES[0],
                VOLUNTEER_FILES[1],
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &WRITE_EXIT,
            see_also: &SEE_ALSO_ALL,
        },
    ),
];

fn extra(name: &str) -> &'static Extra {
    let found = PAGES.iter().find(|(n, _)| *n == name);
    &found.or(PAGES.last()).expect("PAGES is not empty").1
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn roff_text(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with(['.', '\'']) {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The EXAMPLES, FILES, EXIT STATUS and SEE ALSO sections of the page `name`
/// (`distsetup`, `distsetup-master`, ...), and its siblings for SEE ALSO.
pub fn sections(name: &str, pages: &[String]) -> String {
    let e = extra(name);
    let mut out = if name == "distsetup-serve" {
        grammar_section()
    } else {
        String::new()
    };
    out.push_str(".SH EXAMPLES\n");
    for (what, cmd) in e.examples {
        out.push_str(&format!(
            ".PP\n{}:\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
            roff_text(what),
            roff_text(cmd)
        ));
    }
    out.push_str(".SH FILES\n");
    for (path, what) in e.files {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(path),
            roff_text(what)
        ));
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in e.exit {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(what)));
    }
    let mut refs: Vec<String> = pages
        .iter()
        .filter(|p| p.as_str() != name)
        .map(|p| format!("\\fB{}\\fR(1)", roff_text(p)))
        .collect();
    refs.extend(e.see_also.iter().map(|s| {
        let (page, sect) = s.split_once('(').unwrap_or((s, "1)"));
        format!("\\fB{}\\fR({sect}", roff_text(page))
    }));
    out.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", refs.join(",\n")));
    out
}

/// serve's page: the grammar of a compile, from the table the server parses with.
fn grammar_section() -> String {
    use distsetup::server::grammar::table::{self, Form, Value};
    let mut out = String::from(
        ".SH \"THE GRAMMAR OF A COMPILE\"\n\
         serve runs only what compiling preprocessed input needs. The command line is parsed \
         into a typed request; every option must belong to one of the families below, whose \
         values are checked; the command that runs is rebuilt from the request (values joined \
         to their option, -x naming the preprocessed language, the job's own source and \
         output), so the compiler never reads a word differently than serve did. \
         gcc's --long spellings count as the short option the driver makes of them. \
         '%' (gcc's spec syntax) is refused everywhere. A word is letters, digits and \
         _ . , : + = - (never a path); text is anything printable. Anything else is refused, \
         with the reason, on the client's stderr (exit 101).\n",
    );
    let value = |v: Value| match v {
        Value::None => "",
        Value::Word => " WORD",
        Value::OptionalWord => "[WORD]",
        Value::Text => " TEXT",
        Value::OptLevel => "[0|1|2|3|s|fast|g|z]",
        Value::FeatureName => "NAME[=WORD]",
        Value::Language => " c|c++|objective-c|objective-c++[-cpp-output]",
        Value::Output => " FILE",
        Value::Assembler => "ASSEMBLER-OPTIONS",
        Value::Triple => " TRIPLE",
        Value::CompareDebug => "OPTIONS",
        Value::SaveTemps => "cwd|obj",
    };
    for f in table::FAMILIES {
        let v = value(f.value);
        let spelled = match f.form {
            Form::Exact | Form::Joined => format!("{}{}", f.spelling, v.trim_start()),
            Form::Separate => format!("{}{v}", f.spelling),
            Form::JoinedOrSeparate => format!("{}[ ]{}", f.spelling, v.trim_start()),
        };
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(&spelled),
            roff_text(f.reason)
        ));
    }
    out.push_str(&format!(
        ".PP\n-f values are text for {}. Assembler options allowed: {}.\n\
         .PP\nRefused by name, with their reasons:\n",
        roff_text(&table::TEXT_VALUED_F.join(", ")),
        roff_text(&table::ASSEMBLER.join(" "))
    ));
    for (prefix, _, why) in table::REFUSED {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(&format!("{prefix}...")),
            roff_text(why)
        ));
    }
    out
}

/// Each page's DESCRIPTION (paragraphs separated by a blank line); the last one
/// (`distsetup`) is the fallback.
const DESCRIPTIONS: &[(&str, &str)] = &[
    (
        "distsetup-master",
        "Configures the machine that starts builds (the master) to send its compiles to the \
volunteers of a host list, for the distro profile given with --profile. Everything is \
planned first and shown as one diff; nothing is written before you confirm (or pass --yes).

makepkg (arch, archarm; debian when makepkg is installed): BUILDENV gains distcc in place of \
!distcc, DISTCC_HOSTS is set and MAKEFLAGS=\"-jN\"; with /etc/makepkg.conf.d/ present, all of it \
goes into the drop-in distcc.conf and makepkg.conf is left alone. Portage (gentoo): FEATURES \
gains distcc and MAKEOPTS=\"-jN -lM\", each where Portage reads it last (make.conf may be a \
directory); Portage's incremental variables are judged by what their words stack to. Debian: \
/etc/distcc/hosts carries the list; without makepkg nothing reads -jN, and the output says how \
to pass it to make.

-j: --jobs auto applies the profile's rule to this machine's usable physical cores and the \
remote slots (the sum of the hosts' /LIMIT, 4 when not given). --jobs N writes -jN. The reasoning \
is printed in words. The host list uses distcc's grammar (HOST[:PORT][/LIMIT][,lzo]); a typo is \
refused with its line and column, and what distcc accepts but you probably did not mean \
(localhost first, ,cpp) is a warning.",
    ),
    (
        "distsetup-volunteer",
        "Configures this machine to compile for masters with one toolchain. The compile server is \
distsetup serve (default: nothing else to install) or, with --server distccd, the distro's \
distccd. One diff for everything; undo with distsetup undo.

Toolchains: --toolchain takes a name the profiles know (x-tools8, x-tools7h, x-tools6h, \
x-tools86, x-tools), looked for in the invoking user's home (SUDO_USER's under sudo), then \
/opt, /usr/local and the profile's directories; or a path: an x-tools tree, a directory with \
bin/, a bin directory, or the compiler PREFIX-gcc itself; or a system triple such as \
aarch64-linux-gnu, looked for in /usr/bin and /usr/local/bin. The compiler is run to learn its \
target, version and default PIE, and once more as the service's user (the profile's distcc \
user, or nobody for the unit's DynamicUser): a toolchain in a 0700 home is refused with the fix \
(move it to /opt, or chmod o+x the directory). Under --root, toolchains are still looked for on \
this machine.

Names: the alias directory /usr/lib/distsetup/TOOLCHAIN/bin holds gcc, cc, g++, c++, cpp, \
TRIPLE-cc and the master's names (--alias MASTER=LOCAL, and the triples the profile says the \
toolchain serves), all linked to the toolchain; the server puts it first in PATH.

Ports: each toolchain has its own port (the profile's port for a known toolchain, else 3632) \
and a stats port 1000 above it. 3633 is distccd's default stats port and is refused. Ports are \
checked against this machine's listening sockets (/proc/net/tcp and /proc/net/tcp6) and the \
units distsetup or the distro wrote; under --root the sockets are not checked (said so).

Native and cross with --server distccd: for a cross toolchain, a distccd unit of its own \
(distccd-SUFFIX) with its port and PATH, whitelist links in /usr/lib/distcc, and the system \
distccd left alone (it answers with this machine's native compiler on 3632). For this \
machine's own compiler (--toolchain x86_64-linux-gnu on x86_64) the system distccd is the one \
meant: its configuration gets the allow list, the jobs, every address to listen on and the \
switch that starts it (Debian's STARTDISTCC); no second daemon.",
    ),
    (
        "distsetup-serve",
        "A distcc-compatible compile server (protocols 1 and 2) for the stock distcc client. \
It runs only compilers of its own table: the executables of each --toolchain directory, the \
--alias mappings, and names whitelisted in --whitelist-dir; a client's string is never a path \
to run or a PATH search.

Secure by default: --allow is required (--allow-anyone to serve everyone); started as root it \
binds its ports, then becomes --user (default: the distro's distcc user, else nobody) without \
supplementary groups, and checks once at start that this user can run every compiler it \
offers (a toolchain behind a 0700 home is named in the log). Each compile runs in its own job \
directory under TMPDIR, confined by Landlock where the kernel has it.

Refusals for allowed clients are answered with an explanation on the client's stderr; \
disallowed peers get a closed connection. Exit statuses are distccd's, so a distccd unit keeps \
its meaning when the binary is swapped.",
    ),
    (
        "distsetup-doctor",
        "Finds out why a cluster builds locally or builds wrong, and says what to do.

As a master (default): every host of the list (--hosts, else the configured one) is reached \
and sent a probe compile over the distcc protocol itself, so distccd and distsetup serve are \
checked alike; the object that comes back is read for the remote compiler's machine, gcc \
version and default PIE and compared with the same probe compiled here. The local \
configuration (makepkg or Portage) is checked for the traps that make distcc silently do \
nothing, and a speed probe proposes a host line.

As a volunteer (--volunteer): what distsetup volunteer set up is still there and works: the \
toolchains run (also as the service's user), the aliases answer with the right target, \
distccd's whitelist has every name, the units are present and enabled, the ports listen.

The profile comes from --profile, else /etc/os-release under --root, else the files only one \
distro family has (makepkg.conf's CARCH, portage/make.conf, debian_version); when nothing \
tells, --profile is asked for. Findings are ok, warn or broken; only broken fails the run.",
    ),
    (
        "distsetup-wizard",
        "Sets up this machine as a master or a volunteer by asking what the commands take as \
flags, proposing what it found (the distro, the toolchains, a free port, this machine's \
network). It builds the very settings distsetup master and distsetup volunteer build, so the \
diff and the result are the same, and ends by printing the equivalent command line.

Nothing is written before the last confirmation. An answer that does not pass its check is \
shown with the reason and offered again for editing; a host that does not accept connections \
is written only when you say so. Ctrl-C at any point ends it with status 4 and nothing \
written. It needs a terminal.",
    ),
    (
        "distsetup-edit",
        "Reads or changes assignments in a shell-style configuration file (makepkg.conf, \
make.conf, /etc/conf.d files, systemd EnvironmentFiles), keeping every other byte: comments, \
quoting, line endings and a missing final newline.

Changes are planned, shown as a diff and applied atomically, like every command that writes. \
What cannot be edited safely (a dynamic value, an assignment inside an if or a function) is \
refused with its line and reason. A Portage make.conf is read as Portage reads it (its own \
parser, sourced files, a make.conf directory), and every edit is checked there: exactly this \
variable changes, to exactly the value asked.",
    ),
    (
        "distsetup-hosts",
        "Checks a distcc host list (DISTCC_HOSTS syntax, or a hosts file) without changing \
anything: one line per host with its port, limit and options, the total slots distcc -j would \
print, and warnings for what distcc accepts but is probably not meant. A list distcc would \
misread (a port out of range, a host listed twice, a typo in a host name) is an error with \
its line and column. distsetup master, doctor and the wizard check host lists by the same \
rules.",
    ),
    (
        "distsetup-undo",
        "Takes back an applied change set of this root (default: the newest), restoring every \
file, link and directory it changed, with their modes and owners; --list shows the change \
sets. A file changed since the change set was applied is not overwritten: the undo stops and \
says which. The journal lives in /var/lib/distsetup under the root and is readable by root \
only.",
    ),
    (
        "distsetup-completions",
        "Prints the shell completion script for SHELL (bash, zsh, fish, elvish, powershell) to \
standard output. The scripts complete subcommands, options, profile and toolchain names and, \
for --toolchain and --root, paths. Install it where your shell looks for completions (see \
EXAMPLES), and print it again after upgrading distsetup: the names it offers come from this \
version's profiles.",
    ),
    (
        "distsetup",
        "Turns a pile of machines into a working distcc build cluster. distsetup master \
configures the machine that starts builds (makepkg or Portage, the host list, -j); distsetup \
volunteer configures a helper (toolchain aliases, the compile server and its service); \
distsetup serve is that compile server; distsetup doctor explains what is wrong; distsetup \
wizard asks instead of taking flags.

Every command that writes shows one diff first and writes nothing without a confirmation \
(--yes, or a yes on the terminal); --dry-run shows, --check tells whether changes are \
pending, --root DIR works on a chroot or a test tree. Every change set can be taken back \
with distsetup undo.",
    ),
];

/// The DESCRIPTION of the page `name`.
pub fn description(name: &str) -> &'static str {
    let found = DESCRIPTIONS.iter().find(|(n, _)| *n == name);
    found.or(DESCRIPTIONS.last()).map_or("", |(_, d)| d)
}

/// The SYNOPSIS of `cmd` run as `bin`: every visible option with its value, optional ones
/// in brackets, repeatable ones followed by `...`.
pub fn synopsis(cmd: &clap::Command, bin: &str) -> String {
    let mut words = vec![bin.to_owned()];
    let mut positionals = Vec::new();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let values: Vec<String> = a
            .get_value_names()
            .map(|v| v.iter().map(|n| format!("<{n}>")).collect())
            .unwrap_or_else(|| vec![format!("<{}>", a.get_id().as_str().to_uppercase())]);
        let takes = a.get_num_args().is_some_and(|n| n.takes_values());
        let repeat = matches!(a.get_action(), clap::ArgAction::Append);
        let mut word = match (a.get_long(), a.get_short()) {
            (Some(l), Some(s)) => format!("-{s}|--{l}"),
            (Some(l), None) => format!("--{l}"),
            (None, Some(s)) => format!("-{s}"),
            (None, None) => {
                positionals.push(if a.is_required_set() {
                    values.join(" ")
                } else {
                    format!("[{}]", values.join(" "))
                });
                continue;
            }
        };
        if takes {
            word = format!("{word} {}", values.join(" "));
        }
        if repeat {
            word.push_str("...");
        }
        words.push(if a.is_required_set() {
            word
        } else {
            format!("[{word}]")
        });
    }
    words.extend(positionals);
    if cmd.has_subcommands() {
        words.push("<COMMAND>".into());
    }
    words.join(" ")
}

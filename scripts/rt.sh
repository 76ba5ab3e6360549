#!/usr/bin/env bash
# rt.sh: a throwaway Request Tracker 5 for the bridge tests, on a throwaway
# PostgreSQL of scripts/pg.sh (its own database in that cluster) and served on
# loopback only. Everything RT reads or writes for it lives in DIR: the site
# configuration (RT_SITE_CONFIG and RT_SITE_CONFIG_DIR point there, so nothing
# under /etc is read or written), Mason's cache, the log, the root password
# and the mail RT would send (MailCommand testfile). Never touches a system RT.
#
#   rt.sh start DIR PGDIR PORT [INITDATA]  create RT's database, load INITDATA
#                                          (RT's own initialdata format), start
#                                          rt-server on 127.0.0.1:PORT and wait for it
#   rt.sh stop DIR                         stop the rt-server started in DIR
#   rt.sh serve DIR                        start rt-server again after a stop
#   rt.sh grant DIR WHO QUEUE RIGHT...     grant rights on QUEUE to WHO: a user
#                                          name, Everyone, Unprivileged or Requestor
#   rt.sh token DIR USER                   print a new REST2 token of USER
#   rt.sh env DIR                          the environment RT's tools need (eval it)
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: rt.sh start|stop|env DIR ..." >&2; exit 2; }

RT_SETUP=/usr/sbin/rt-setup-database-5
RT_SERVER=/usr/share/request-tracker5/libexec/rt-server
# How long RT may take to answer its first request (it compiles Mason templates).
START_DEADLINE_S=${RT_START_DEADLINE_S:-120}

rt_env() {
    echo "export RT_SITE_CONFIG='$dir/RT_SiteConfig.pm' RT_SITE_CONFIG_DIR='$dir/site.d'"
}

# Starts rt-server for DIR on its port and waits until REST2 answers.
serve() {
    local port rootpw deadline
    port=$(cat "$dir/port")
    rootpw=$(cat "$dir/root-password")
    # setsid: its own process group, so stop ends rt-server and any child it forks.
    # Two workers (Starlet's default is ten): a test makes one request at a time.
    setsid "$RT_SERVER" --listen "127.0.0.1:$port" --max-workers 2 >>"$dir/server.log" 2>&1 \
        < /dev/null &
    echo $! > "$dir/server.pid"
    deadline=$(( $(date +%s) + START_DEADLINE_S ))
    until curl -fs -o /dev/null -u "root:$rootpw" "http://127.0.0.1:$port/REST/2.0/rt"; do
        if ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
            echo "rt.sh: rt-server exited:" >&2; tail -30 "$dir/server.log" >&2; exit 1
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "rt.sh: rt-server did not answer within $START_DEADLINE_S s" >&2
            tail -30 "$dir/server.log" >&2
            "$0" stop "$dir"
            exit 1
        fi
        sleep 0.2
    done
}

# Runs the Perl program on stdin with RT loaded (RT's own API), arguments after DIR.
rt_perl() {
    local d=$1
    shift
    TMPDIR="$d/mail" perl -I/usr/share/request-tracker5/lib -e '
        use strict; use warnings; use RT; RT::LoadConfig(); RT::Init();
        my $code = do { local $/; <STDIN> }; eval $code; die $@ if $@;' "$@" \
        2> >(grep -v "internal HTML converter" >&2)
}

case "$cmd" in
start)
    pgdir=${3:?usage: rt.sh start DIR PGDIR PORT [INITDATA]}
    port=${4:?usage: rt.sh start DIR PGDIR PORT [INITDATA]}
    initdata=${5:-}
    [ -x "$RT_SETUP" ] && [ -x "$RT_SERVER" ] || {
        echo "rt.sh: Request Tracker 5 is not installed (make test-deps installs it)" >&2; exit 1; }
    mkdir -p "$dir/site.d" "$dir/mason" "$dir/mail"
    dir=$(cd "$dir" && pwd)
    pgdir=$(cd "$pgdir" && pwd)
    # RT's own database role; casehost's cluster admits every role but its
    # superuser by SCRAM password only.
    pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    rootpw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    umask 077
    printf '%s\n' "$rootpw" > "$dir/root-password"
    printf '%s\n' "$pw" > "$dir/db-password"
    cat > "$dir/RT_SiteConfig.pm" <<PM
# Written by scripts/rt.sh for one test run; removed with it.
Set(\$rtname, 'casehost-test');
Set(\$Organization, 'casehost-test');
Set(\$Timezone, 'UTC');
Set(\$DatabaseType, 'Pg');
Set(\$DatabaseHost, '$pgdir');
Set(\$DatabasePort, '');
Set(\$DatabaseName, 'rt5');
Set(\$DatabaseUser, 'rt_user');
Set(\$DatabasePassword, '$pw');
Set(\$DatabaseAdmin, 'casehost');
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $port);
Set(\$WebPath, '');
Set(\$WebBaseURL, 'http://127.0.0.1:$port');
Set(\$MailCommand, 'testfile');
Set(\$LogToSTDERR, 'warning');
Set(\$LogToFile, undef);
Set(\$LogToSyslog, undef);
Set(\$DevelMode, 0);
\$RT::MasonDataDir = '$dir/mason';
\$RT::MasonSessionDir = '$dir/mason/session';
1;
PM
    eval "$(rt_env)"
    # MailCommand testfile writes to \$TMPDIR (File::Temp): keep it in DIR.
    export TMPDIR="$dir/mail"
    t0=$(date +%s.%N)
    "$RT_SETUP" --action init --dba casehost --dba-password '' \
        --root-password-file "$dir/root-password" >"$dir/setup.log" 2>&1 \
        || { tail -30 "$dir/setup.log" >&2; exit 1; }
    if [ -n "$initdata" ]; then
        "$RT_SETUP" --action insert --datafile "$initdata" --dba casehost --dba-password '' \
            >>"$dir/setup.log" 2>&1 || { tail -30 "$dir/setup.log" >&2; exit 1; }
    fi
    t1=$(date +%s.%N)
    echo "$port" > "$dir/port"
    serve
    t2=$(date +%s.%N)
    printf 'rt.sh: database %.1f s, server %.1f s\n' "$(echo "$t1 - $t0" | bc)" \
        "$(echo "$t2 - $t1" | bc)" >> "$dir/timings"
    ;;
serve)
    dir=$(cd "$dir" && pwd)
    eval "$(rt_env)"
    export TMPDIR="$dir/mail"
    serve ;;
grant)
    [ $# -ge 5 ] || { echo "usage: rt.sh grant DIR WHO QUEUE RIGHT..." >&2; exit 2; }
    dir=$(cd "$dir" && pwd)
    eval "$(rt_env)"
    rt_perl "$dir" "$3" "$4" "${@:5}" <<'PERL'
my ($who, $queue_name, @rights) = @ARGV;
my $queue = RT::Queue->new(RT->SystemUser);
$queue->Load($queue_name) or die "no queue $queue_name\n";
my $principal;
if ($who eq 'Everyone' || $who eq 'Unprivileged') {
    my $g = RT::Group->new(RT->SystemUser);
    $g->LoadSystemInternalGroup($who) or die "no group $who\n";
    $principal = $g->PrincipalObj;
} elsif ($who eq 'Requestor') {
    $principal = $queue->RoleGroup('Requestor')->PrincipalObj;
} else {
    my $u = RT::User->new(RT->SystemUser);
    $u->Load($who) or die "no user $who\n";
    $principal = $u->PrincipalObj;
}
for my $right (@rights) {
    my ($ok, $msg) = $principal->GrantRight(Right => $right, Object => $queue);
    die "$right: $msg\n" unless $ok;
}
PERL
    ;;
token)
    [ $# -eq 3 ] || { echo "usage: rt.sh token DIR USER" >&2; exit 2; }
    dir=$(cd "$dir" && pwd)
    eval "$(rt_env)"
    rt_perl "$dir" "$3" <<'PERL'
my $u = RT::User->new(RT->SystemUser);
$u->Load($ARGV[0]) or die "no user $ARGV[0]\n";
my $t = RT::AuthToken->new(RT->SystemUser);
my ($id, $msg, $token) = $t->Create(Owner => $u->id, Description => 'casehost bridge');
die "token: $msg\n" unless $id;
print "$token\n";
PERL
    ;;
stop)
    [ -d "$dir" ] || exit 0
    if [ -s "$dir/server.pid" ]; then
        pid=$(cat "$dir/server.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        rm -f "$dir/server.pid"
    fi
    ;;
env)
    rt_env ;;
*)
    echo "rt.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac

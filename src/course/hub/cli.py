"""`course roster`, `course hub` and `course feedback`: the hub's subcommands."""
from __future__ import annotations

import os
from pathlib import Path

from course.paths import Course, CourseError, course_id as read_course_id


def _state(args, course: Course) -> Path:
    from course.hub import embedded as hub

    return Path(args.state).resolve() if args.state else hub.default_state(course)


def cmd_roster_add(args) -> int:
    from course.hub import embedded as hub, roster

    course = Course.find()
    state = _state(args, course)
    cid = read_course_id(course.root)
    try:
        settings = hub.Settings.load(state)
        home_base = Path(args.home_base or settings.home_base)
    except CourseError:
        settings, home_base = None, Path(args.home_base or "/home")
    roster.require_root("course roster add")
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, hub.STATE_MODE)
    reserved = {f"grader-{cid}", cid, "course-cli", "idle-culler", "root", "admin"}
    home_base.mkdir(parents=True, exist_ok=True)
    messages = []

    def on_applied(rows, merged):
        if settings is not None:
            if settings.course_dir.is_dir():
                hub.sync_gradebook_students(settings)
                hub._chown_tree(settings.course_dir, settings.grader)
            messages.append(hub.sync_roster(settings, rows))

    issued: dict[str, str] = {}
    rows = roster.add(state, Path(args.csv), home_base, reserved, on_applied=on_applied, issued=issued)
    counts = {role: sum(1 for m in rows if m.role == role) for role in roster.ROLES}
    print(f"roster: {len(rows)} row(s) applied ({', '.join(f'{n} {r}' for r, n in counts.items() if n)}); "
          f"recorded in {roster.roster_file(state)}")
    print(_codes_line(state, issued, len(rows)))
    for message in messages:
        print(message)
    return 0


def _codes_line(state: Path, issued: dict[str, str], applied: int) -> str:
    """Where the codes are; never the codes themselves (this output may land in shared logs)."""
    from course.hub import enrolment

    kept = applied - len(issued)
    return (f"enrolment codes: {len(issued)} issued (members with no password yet)"
            f"{f', {kept} member(s) kept their password' if kept else ''}; the codes are in "
            f"{enrolment.codes_path(state)} (root only, columns id,name,email,code): give each member "
            f"their own code, their first password (they may change it at /hub/auth/change-password)")


def cmd_roster_reset_code(args) -> int:
    from course.hub import enrolment, roster

    course = Course.find()
    state = _state(args, course)
    roster.reset_code(state, args.id)
    print(f"roster: {args.id} has a new enrolment code (their old password no longer works); it is "
          f"their row in {enrolment.codes_path(state)} (root only)")
    return 0


def cmd_roster_remove(args) -> int:
    from course.hub import embedded as hub, roster

    course = Course.find()
    state = _state(args, course)
    ids = list(args.ids)
    if args.csv:
        ids += [m.id for m in roster.parse(Path(args.csv))]
    if not ids:
        raise CourseError("name the ids to remove (or --csv FILE with an id column)")
    removed, deleted = roster.remove(state, ids, delete_homes=args.delete_homes)
    print(f"roster: removed {', '.join(m.id for m in removed)} (they can no longer log in; their "
          f"password and enrolment code are gone); "
          f"system users deleted: {', '.join(deleted) or 'none'}"
          f"{'' if args.delete_homes or not deleted else ' (homes kept: --delete-homes to remove them)'}")
    try:
        settings = hub.Settings.load(state)
    except CourseError:
        return 0
    print(hub.unsync_roster(settings, [m.id for m in removed]))
    return 0


def cmd_hub_teardown(args) -> int:
    import sys

    from course.hub import embedded as hub, roster

    course = Course.find()
    roster.require_root("course hub teardown")
    settings = hub.Settings.load(_state(args, course))
    plan = hub.teardown_plan(settings)
    print(f"course hub teardown of {settings.course_id} removes:\n"
          f"  system users and their homes: {', '.join(plan['users']) or 'none'}\n"
          f"  the state directory {plan['state']} (hub database, passwords, enrolment codes, roster,\n"
          f"    exchange, the grader's course directory with gradebook.db, submissions and feedback)\n"
          f"  cgroups: {', '.join(plan['cgroups']) or 'none'}")
    if plan["kept_users"]:
        print(f"  kept (accounts that existed before the roster): {', '.join(plan['kept_users'])}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CourseError("course hub teardown asks for confirmation: run it in a terminal or add --yes")
        answer = input(f"type the course id ({settings.course_id}) to confirm: ").strip()
        if answer != settings.course_id:
            print("nothing removed")
            return 1
    hub.teardown(settings, plan)
    print(f"removed {len(plan['users'])} user(s) and {plan['state']}")
    return 0


def cmd_roster_list(args) -> int:
    from course.hub import roster

    course = Course.find()
    for member in roster.load(_state(args, course)).values():
        print(f"{member.id}\t{member.role}\t{member.name}\t{member.email}")
    return 0


def cmd_hub_start(args) -> int:
    from course.hub import embedded as hub

    course = Course.find()
    return hub.start(course, _state(args, course), home_base=Path(args.home_base), ip=args.ip, port=args.port,
                     interrupt_timeout=args.interrupt_timeout, mem_limit=_bytes(args.mem_limit),
                     cpu_limit=args.cpu_limit)


def _bytes(text: str) -> int:
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}
    number, unit = text.upper().rstrip("IB"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        return int(float(number) * units[unit])
    except ValueError:
        raise CourseError(f"--mem-limit {text!r}: a size such as 3G, 1500M or 0 (no limit)") from None


def cmd_hub_grade(args) -> int:
    from course.hub import embedded as hub, feedback_release

    course = Course.find()
    settings = hub.Settings.load(_state(args, course))
    (assignment,) = course.resolve([args.assignment])
    if not args.no_collect:
        hub.collect(settings, assignment)
    status = hub.grade(settings, assignment, args.jobs, student=args.student, force=args.force)
    if not args.no_feedback:
        released = feedback_release.release(settings.course_dir, assignment, settings.course_id, settings.exchange)
        hub._chown_tree(settings.course_dir, settings.grader)
        hub.own_exchange(settings)
        print(f"feedback released to {len(released)} student(s)")
    return status


def cmd_hub_export(args) -> int:
    from course import export
    from course.hub import embedded as hub

    course = Course.find()
    settings = hub.Settings.load(_state(args, course))
    chosen = course.resolve(args.assignments) if args.assignments else None
    count = export.write(f"sqlite:///{settings.course_dir / 'gradebook.db'}", settings.course_id, Path(args.to), chosen)
    print(f"{count} row(s) (student, assignment, part) in {args.to}")
    return 0


def cmd_hub_stats(args) -> int:
    from course import stats
    from course.hub import embedded as hub

    course = Course.find()
    settings = hub.Settings.load(_state(args, course))
    (assignment,) = course.resolve([args.assignment])
    page = Path(args.to or f"{assignment}-stats.html")
    summary = stats.write(settings.course_dir / "autograded", assignment, page)
    if not summary["submissions"]:
        raise CourseError(f"no graded submission of {assignment} on the hub yet: `course hub grade {assignment}` first")
    print(f"{assignment}: {summary['graded']} graded, {summary['errors']} errors; page in {page}")
    return 0


def cmd_feedback(args) -> int:
    from course.hub import embedded as hub, feedback_release

    course = Course.find()
    (assignment,) = course.resolve([args.assignment])
    if args.course_dir:
        course_dir, exchange = Path(args.course_dir).resolve(), Path(args.exchange).resolve()
        cid = read_course_id(course_dir)
    else:
        settings = hub.Settings.load(_state(args, course))
        course_dir, exchange, cid = settings.course_dir, settings.exchange, settings.course_id
    released = feedback_release.release(course_dir, assignment, cid, exchange,
                                        Path(args.autograded) if args.autograded else None)
    if not args.course_dir:
        hub._chown_tree(settings.course_dir, settings.grader)
        hub.own_exchange(settings)
    print(f"{assignment}: feedback released to {', '.join(released)}")
    return 0


def add_commands(commands, jobs_default) -> None:
    state_help = "the hub's state directory (default $COURSE_HUB_STATE or /var/lib/course-hub/<course_id>)"

    roster = commands.add_parser("roster", help="course members: system users and hub accounts")
    roster_cmds = roster.add_subparsers(dest="roster_command", required=True)
    add = roster_cmds.add_parser("add", help="apply a roster CSV (id,name,email,role): all rows or none")
    add.add_argument("csv")
    add.add_argument("--state", help=state_help)
    add.add_argument("--home-base", help="where new homes go (default: the hub's, else /home)")
    add.set_defaults(func=cmd_roster_add)
    remove = roster_cmds.add_parser("remove", help="take members off the roster and delete their system users")
    remove.add_argument("ids", nargs="*", help="roster ids")
    remove.add_argument("--csv", help="a roster CSV whose ids to remove")
    remove.add_argument("--delete-homes", action="store_true", help="also delete their homes (their work)")
    remove.add_argument("--state", help=state_help)
    remove.set_defaults(func=cmd_roster_remove)
    reset = roster_cmds.add_parser("reset-code", help="a new enrolment code for a member (replaces their password)")
    reset.add_argument("id", help="roster id")
    reset.add_argument("--state", help=state_help)
    reset.set_defaults(func=cmd_roster_reset_code)
    listing = roster_cmds.add_parser("list", help="the recorded roster")
    listing.add_argument("--state", help=state_help)
    listing.set_defaults(func=cmd_roster_list)

    hub = commands.add_parser("hub", help="the embedded JupyterHub (make hub)")
    hub_cmds = hub.add_subparsers(dest="hub_command", required=True)
    start = hub_cmds.add_parser("start", help="start JupyterHub with the course released; Ctrl-C stops it")
    start.add_argument("--state", help=state_help)
    start.add_argument("--home-base", default="/home")
    start.add_argument("--ip", default=os.environ.get("HUB_IP", "127.0.0.1"))
    start.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")),
                       help="public port (0: pick free ports for everything)")
    start.add_argument("--interrupt-timeout", type=int, default=3,
                       help="seconds per step (SIGINT, SIGTERM, SIGKILL) when stopping a server")
    start.add_argument("--mem-limit", default=os.environ.get("HUB_MEM_LIMIT", "3G"),
                       help="memory per student server, kernels included (cgroups; 0: none)")
    start.add_argument("--cpu-limit", type=float, default=float(os.environ.get("HUB_CPU_LIMIT", "1")),
                       help="CPUs per student server (cgroups; 0: none)")
    start.set_defaults(func=cmd_hub_start)
    teardown = hub_cmds.add_parser("teardown", help="remove the hub's users, homes, cgroups and state (asks first)")
    teardown.add_argument("--state", help=state_help)
    teardown.add_argument("--yes", action="store_true", help="do not ask (scripts)")
    teardown.set_defaults(func=cmd_hub_teardown)
    grade = hub_cmds.add_parser("grade", help="collect, `course grade` and release feedback on the hub")
    grade.add_argument("assignment")
    grade.add_argument("--state", help=state_help)
    grade.add_argument("-j", "--jobs", type=int, default=jobs_default())
    grade.add_argument("--no-collect", action="store_true")
    grade.add_argument("--no-feedback", action="store_true")
    grade.add_argument("--student", help="grade this student only (a roster id)")
    grade.add_argument("--force", action="store_true", help="regrade even when the submission and suite are unchanged")
    grade.set_defaults(func=cmd_hub_grade)
    export = hub_cmds.add_parser("export", help="the hub's gradebook as CSV (per student, assignment, part, lateness)")
    export.add_argument("assignments", nargs="*")
    export.add_argument("--state", help=state_help)
    export.add_argument("--to", default="grades.csv")
    export.set_defaults(func=cmd_hub_export)
    stats = hub_cmds.add_parser("stats", help="an HTML page: score distributions, most failing checks, lateness")
    stats.add_argument("assignment")
    stats.add_argument("--state", help=state_help)
    stats.add_argument("--to", help="HTML file to write (default: NN_slug-stats.html)")
    stats.set_defaults(func=cmd_hub_stats)

    feedback = commands.add_parser("feedback", help="release graded feedback through nbgrader's exchange")
    feedback.add_argument("assignment")
    feedback.add_argument("--state", help=state_help)
    feedback.add_argument("--course-dir", help="an nbgrader course directory (instead of the hub's)")
    feedback.add_argument("--exchange", help="the exchange root, with --course-dir")
    feedback.add_argument("--autograded", help="where `course grade --out` wrote (default <course-dir>/autograded)")
    feedback.set_defaults(func=cmd_feedback)

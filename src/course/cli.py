"""The `course` command: release, lint, grade, validate, demo, roster, hub, feedback."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from course.paths import Course, CourseError, course_id, ensure_scripts_on_path


def _jobs_default() -> int:
    return max(os.cpu_count() or 1, 1)


def cmd_release(args) -> int:
    from course import release

    course = Course.find()
    for assignment in course.resolve(args.assignments):
        written = release.release(course, assignment)
        print(f"{assignment}: wrote {', '.join(str(p.relative_to(course.root)) for p in written)}")
    return 0


def cmd_lint(args) -> int:
    from course import lint

    course = Course.find()
    problems = []
    for assignment in course.resolve(args.assignments):
        problems += lint.lint_assignment(course, assignment)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(problems)} problem(s)" if problems else "no problems")
    return 1 if problems else 0


def cmd_grade(args) -> int:
    from course.judge.config import JudgeConfig
    from course.judge_server import JudgeServer

    course = Course.find()
    (assignment,) = course.resolve([args.assignment])
    config = JudgeConfig.load(course.autograder / assignment)
    # First, before the batch's own imports and planning: the server's warm-up (torch, the
    # hidden suite) and the zygote's (the preload: torch and TensorFlow for 01) are most of a
    # batch's start-up, and this way they run alongside them.
    server = JudgeServer.launch(course, assignment, config)
    try:
        from course.judge.submission import start_zygote

        zygote = start_zygote(config, wait=False)
        try:
            return _grade(args, course, assignment, server, zygote)
        finally:
            zygote.close()
    finally:
        server.close()


def _grade(args, course: Course, assignment: str, server, zygote) -> int:
    from course import batch, planning

    out = Path(args.out) if args.out else course.root / "autograded"
    jobs = batch.discover(assignment, [Path(p) for p in args.paths], out.resolve(), args.student)
    if not jobs:
        raise CourseError(f"no submissions of {assignment} under {', '.join(args.paths)}")
    if args.shard:
        index, count = planning.parse_shard(args.shard)
        jobs = [job for job in jobs if planning.in_shard(job.student, index, count)]
        print(f"shard {index}/{count}: {len(jobs)} submission(s)", file=sys.stderr)
    if args.json and len(jobs) != 1:
        raise CourseError("--json prints one results.json: give exactly one notebook")
    db_url = None if args.no_gradebook else (args.db or course.gradebook_url)
    rows = batch.grade(course, assignment, jobs, parallel=args.jobs, db_url=db_url,
                       progress=not args.json and len(jobs) > 1, force=args.force or args.json,
                       settle=args.settle, server=server, zygote=zygote)
    if args.json:
        job, summary = rows[0]
        if job.out is None:  # a refused student id: nothing was graded or written
            raise CourseError(summary["note"])
        print((job.out / "results.json").read_text(), end="")
    else:
        print(batch.table(rows))
    return 1 if any(summary["status"] == "error" for _, summary in rows) else 0


def gradebook_option(text: str) -> str:
    """--db: a SQLAlchemy URL (sqlite:///..., postgresql://...) or a path, taken as a SQLite file."""
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text} is a folder; give the gradebook file, e.g. {text.rstrip('/')}/gradebook.db")
        if not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"{text}: the folder {path.parent} does not exist")
        return f"sqlite:///{path}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(text).get_dialect()  # an unknown scheme fails here, not deep inside nbgrader
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a database URL; give one such as sqlite:////srv/course/gradebook.db or "
            "postgresql://grader@dbhost/course, or a path to a .db file") from None
    return text


def cmd_record(args) -> int:
    from course import batch

    course = Course.find()
    (assignment,) = course.resolve([args.assignment])
    out = Path(args.out) if args.out else course.root / "autograded"
    recorded, skipped = batch.record_results(course, assignment, out.resolve(), args.db or course.gradebook_url)
    print(f"{assignment}: {recorded} submission(s) in the gradebook"
          + (f"; {len(skipped)} not graded yet or judge errors: {', '.join(skipped)}" if skipped else ""))
    return 0


def cmd_export(args) -> int:
    from course import export

    course = Course.find()
    chosen = course.resolve(args.assignments) if args.assignments else None
    target = Path(args.to)
    count = export.write(args.db or course.gradebook_url, course_id(course.root), target, chosen)
    print(f"{count} row(s) (student, assignment, part) in {target}")
    return 0


def cmd_stats(args) -> int:
    from course import stats

    course = Course.find()
    (assignment,) = course.resolve([args.assignment])
    out = Path(args.out) if args.out else course.root / "autograded"
    page = Path(args.to or f"{assignment}-stats.html")
    summary = stats.write(out, assignment, page)
    if not summary["submissions"]:
        raise CourseError(f"no results.json of {assignment} under {out}: grade first")
    print(f"{assignment}: {summary['graded']} graded, {summary['errors']} errors; page in {page}")
    return 0


def cmd_validate(args) -> int:
    from course import validate

    course = Course.find()
    ok = validate.validate(course, course.resolve(args.assignments), parallel=args.jobs, report=args.report)
    return 0 if ok else 1


def cmd_demo(args) -> int:
    from course import demo

    return demo.run(Course.find(), Path(args.out), parallel=args.jobs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="generate release/ and solutions/ from source/ with nbgrader")
    release.add_argument("assignments", nargs="*", help="NN_slug or NN (default: all)")
    release.set_defaults(func=cmd_release)

    lint = commands.add_parser("lint", help="check source notebooks for malformed nbgrader cells and outputs")
    lint.add_argument("assignments", nargs="*")
    lint.set_defaults(func=cmd_lint)

    grade = commands.add_parser("grade", help="grade notebooks or nbgrader submitted/ folders")
    grade.add_argument("assignment")
    grade.add_argument("paths", nargs="+", help="a notebook, submitted/, or submitted/<student>/")
    grade.add_argument("-j", "--jobs", type=int, default=_jobs_default(), help="submissions graded at once")
    grade.add_argument("--out", help="results folder (default: autograded/ in the course)")
    grade.add_argument("--student", help="student id for a single loose notebook")
    grade.add_argument("--json", action="store_true", help="print the one results.json to stdout")
    grade.add_argument("--db", type=gradebook_option,
                       help="gradebook: a database URL or a path to a .db file (default: <course>/gradebook.db)")
    grade.add_argument("--no-gradebook", action="store_true", help="do not record scores in the gradebook")
    grade.add_argument("--force", action="store_true", help="regrade submissions whose results are up to date")
    grade.add_argument("--settle", type=float, default=10.0,
                       help="seconds a notebook that does not parse yet may still be being written (default 10)")
    grade.add_argument("--shard", metavar="I/N", help="grade only shard I of N (by student id; merge with `course record`)")
    grade.set_defaults(func=cmd_grade)

    record = commands.add_parser("record", help="record results.json files (e.g. from --shard runs) in the gradebook")
    record.add_argument("assignment")
    record.add_argument("--out", help="results folder (default: autograded/ in the course)")
    record.add_argument("--db", type=gradebook_option,
                       help="gradebook: a database URL or a path to a .db file (default: <course>/gradebook.db)")
    record.set_defaults(func=cmd_record)

    validate = commands.add_parser("validate", help="solutions score full, releases 0, mutants lose their parts")
    validate.add_argument("assignments", nargs="*")
    validate.add_argument("-j", "--jobs", type=int, default=_jobs_default())
    validate.add_argument("--report", action="store_true",
                          help="also print a table per assignment: mutants caught, median loss, alternatives, collateral")
    validate.set_defaults(func=cmd_validate)

    export = commands.add_parser("export", help="the gradebook as CSV: per student, assignment and part, with lateness")
    export.add_argument("assignments", nargs="*", help="only these (default: all)")
    export.add_argument("--to", default="grades.csv", help="CSV file to write (default: grades.csv)")
    export.add_argument("--db", type=gradebook_option,
                        help="gradebook: a database URL or a path to a .db file (default: <course>/gradebook.db)")
    export.set_defaults(func=cmd_export)

    stats = commands.add_parser("stats", help="an HTML page of an assignment's score distributions, failing checks, lateness")
    stats.add_argument("assignment")
    stats.add_argument("--out", help="results folder (default: autograded/ in the course)")
    stats.add_argument("--to", help="HTML file to write (default: NN_slug-stats.html)")
    stats.set_defaults(func=cmd_stats)

    demo = commands.add_parser("demo", help="release the course and grade a generated demo class")
    demo.add_argument("--out", default="demo")
    demo.add_argument("-j", "--jobs", type=int, default=_jobs_default())
    demo.set_defaults(func=cmd_demo)

    from course.hub import cli as hub_cli  # roster, hub, feedback

    hub_cli.add_commands(commands, _jobs_default)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    ensure_scripts_on_path()
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"course: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("course: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`python -m course.judge.worker`: grade one notebook in a fresh judge process.

The batch runs one worker per submission, so nothing of one student's grading (imports,
pytest state, a crashed sandbox) reaches the next. The worker writes results.json and
feedback.html itself (atomically) and prints one JSON summary line on stdout.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

from course.judge import annotate, feedback, results
from course.judge.run import grade_notebook
from course.paths import Course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course.judge.worker")
    parser.add_argument("--course", required=True, type=Path)
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--notebook", required=True, type=Path)
    parser.add_argument("--student", required=True)
    parser.add_argument("--out", required=True, type=Path, help="folder for results.json and feedback.html")
    parser.add_argument("--hide", action="append", type=Path, default=[])
    args = parser.parse_args(argv)
    try:
        result = grade_notebook(Course(args.course.resolve()), args.assignment, args.notebook,
                                student=args.student, extra_hidden=args.hide)
    except Exception as exc:  # an instructor-side problem (broken suite): report, never fake a score
        print(json.dumps({"status": "error", "error": f"{type(exc).__name__}: {exc}",
                          "trace": traceback.format_exc()[-4000:]}))
        return 2
    results.write(result, args.out)
    feedback.write(result, args.out)
    annotate.write(args.notebook, result, args.out)
    print(json.dumps({"status": result["extra_data"]["status"], "score": result["score"],
                      "max_score": result["max_score"], "execution_time": result["execution_time"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

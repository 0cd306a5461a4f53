"""Property-based tests (hypothesis): roster ids, shard assignment, feedback escaping.

Each property is stated independently of the code it checks, so a rule loosened in the code
(an id with upper case, a field printed unescaped) is found by the generated cases.
"""
from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course import planning
from course.hub import roster
from course.judge import feedback

# --------------------------------------------------------------------------- roster ids
# The rule the README states: a lower-case POSIX login name that is also an nbgrader id.
SPEC = re.compile(r"[a-z][a-z0-9_-]{0,31}")
id_alphabet = string.ascii_letters + string.digits + "_-+*/. \t\n\x1b=@:;'\"<>é한"
ids = st.text(alphabet=id_alphabet, min_size=0, max_size=40)


def _parse_one(tmp_path, member_id: str):
    path = tmp_path / "roster.csv"
    path.write_text("id,name,email,role\n" + f'"{member_id}",Some One,someone@example.org,student\n',
                    encoding="utf-8")
    try:
        return roster.parse(path)
    except roster.RosterError as exc:
        return exc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(member_id=ids)
def test_every_id_the_roster_accepts_is_a_lower_case_login_name(tmp_path, member_id):
    if '"' in member_id:  # a quote ends the CSV field: not an id the CSV can carry
        return
    parsed = _parse_one(tmp_path, member_id)
    if not isinstance(parsed, Exception):
        [member] = parsed
        assert member.id == member_id.strip()  # surrounding blanks of a CSV field are not part of it
        assert SPEC.fullmatch(member.id), f"the roster accepted {member_id!r}"
    else:
        assert "roster.csv line " in str(parsed), str(parsed)  # the message names file and line


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(member_id=st.from_regex(SPEC, fullmatch=True))
def test_every_lower_case_login_name_is_accepted_unless_taken_or_reserved(tmp_path, member_id):
    parsed = _parse_one(tmp_path, member_id)
    if isinstance(parsed, Exception):
        assert "system" in str(parsed) or "reserved" in str(parsed), str(parsed)
    else:
        assert [m.id for m in parsed] == [member_id]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(upper=st.from_regex(r"[a-z]{0,5}[A-Z][a-zA-Z0-9]{0,5}", fullmatch=True))
def test_an_id_with_any_upper_case_letter_is_refused(tmp_path, upper):
    assert isinstance(_parse_one(tmp_path, upper), roster.RosterError)


# --------------------------------------------------------------------------- shards
@settings(max_examples=300, deadline=None)
@given(student=st.text(min_size=1, max_size=40), count=st.integers(1, 16))
def test_every_student_is_in_exactly_one_shard(student, count):
    assert sum(planning.in_shard(student, i, count) for i in range(1, count + 1)) == 1


# --------------------------------------------------------------------------- feedback escaping
MARK = "<x-evil onerror=alert(1)>"
student_text = st.text(max_size=30).map(lambda text: text + MARK)


def _document(student, output, message, error_type, error_message, where, trace, note):
    return {
        "score": 1.0, "max_score": 3.0, "execution_time": 1.2, "output": message,
        "tests": [
            {"name": "add: test_add_arrays[shape0]", "score": 0.0, "max_score": 2.0, "status": "failed",
             "output": message, "tags": ["add"], "visibility": "visible"},
            {"name": "norm: test_norm", "score": 1.0, "max_score": 1.0, "status": "passed",
             "output": "", "tags": ["norm"], "visibility": "visible"},
        ],
        "extra_data": {
            "assignment": "00_demo", "student": student, "status": "graded",
            "parts": [{"grade_id": "add", "score": 0.0, "max_score": 2.0, "passed": 0, "total": 1},
                      {"grade_id": "norm", "score": 1.0, "max_score": 1.0, "passed": 1, "total": 1}],
            "cell_errors": [{"cell": 3, "grade_id": "add_impl", "type": error_type, "message": error_message,
                             "where": where, "trace": trace}],
            "notes": [note], "notebook_output": output,
        },
    }


@settings(max_examples=150, deadline=None)
@given(student=student_text, output=student_text, message=student_text, error_type=student_text,
       error_message=student_text, where=student_text, trace=student_text, note=student_text)
def test_no_student_controlled_field_reaches_feedback_unescaped(student, output, message, error_type,
                                                                 error_message, where, trace, note):
    page = feedback.render(_document(student, output, message, error_type, error_message, where, trace, note))
    assert "<x-evil" not in page
    assert "&lt;x-evil" in page  # the text is shown, escaped, not dropped

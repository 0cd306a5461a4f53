"""What the judge says to students, in the course's language (`language` in course.toml).

Two catalogues: `UI`, the feedback page's own words; `JUDGE`, the judge's messages (the
sandbox's, the checks' in course.judge.check, the notebook notes), each an English pattern as
the judge writes it and its translation. Messages are recorded in English in results.json
(instructors, Gradescope) and translated when the page is rendered; a message that matches no
pattern (an author's own text in a suite, say) is shown as written. tests/test_feedback.py
produces every judge message from the code that writes it and fails when one no longer
translates, so a reworded message cannot silently fall back to English.
"""
from __future__ import annotations

import re
from pathlib import Path

from course.schedule import DEFAULT_LANGUAGE as DEFAULT, LANGUAGES

UI = {
    "en": {
        "score": "Score", "graded_in": "graded in {seconds} s", "student": "Student",
        "summary": "Summary", "all_passed": "Every check passed. Well done.",
        "fix_first": "Parts to fix first", "first_failure": "First failing check",
        "part_line": "{part}: {score} / {max}", "lost": "loses {points}",
        "not_attempted": "not attempted",
        "not_attempted_long": "Not attempted: every check of this part stopped at NotImplementedError.",
        "checks_passed": "{passed} of {total} checks passed", "passed_folded": "{count} passed check(s)",
        "failed": "failed", "passed": "passed", "case": "case", "cases_failed": "{failed} of {total} cases failed",
        "more_cases": "and {count} more case(s)",
        "notes": "Notes", "cell_errors": "Cells that raised", "cell": "cell", "output": "Output of your notebook",
        "unreadable": "Your notebook could not be graded",
        "late": "Submitted {days} day(s) after the due date ({due}): the late policy takes {percent}%, "
                "so this counts as {final} / {max}.",
        "late_extension": " (your extended due date)",
    },
    "ko": {
        "score": "점수", "graded_in": "채점 {seconds}초", "student": "학생",
        "summary": "요약", "all_passed": "모든 검사를 통과했습니다. 잘했습니다.",
        "fix_first": "먼저 고칠 부분", "first_failure": "처음 실패한 검사",
        "part_line": "{part}: {score} / {max}", "lost": "{points}점 감점",
        "not_attempted": "시도하지 않음",
        "not_attempted_long": "시도하지 않음: 이 부분의 모든 검사가 NotImplementedError에서 멈췄습니다.",
        "checks_passed": "검사 {total}개 중 {passed}개 통과", "passed_folded": "통과한 검사 {count}개",
        "failed": "실패", "passed": "통과", "case": "경우", "cases_failed": "경우 {total}개 중 {failed}개 실패",
        "more_cases": "외 {count}개 경우",
        "notes": "알림", "cell_errors": "오류가 난 셀", "cell": "셀", "output": "노트북 출력",
        "unreadable": "노트북을 채점할 수 없었습니다",
        "late": "마감({due})보다 {days}일 늦게 제출했습니다. 지각 규정에 따라 {percent}%를 감점하여 "
                "{final} / {max}점으로 반영됩니다.",
        "late_extension": " (연장된 마감)",
    },
}


def ui(key: str, language: str, **values) -> str:
    return UI.get(language, UI[DEFAULT])[key].format(**values)


# --------------------------------------------------------------------------- judge messages
_WHERE = re.compile(r" \(cell (?P<cell>\d+), line (?P<line>\d+)\)$")
_INPUTS = r"(?P<inputs> for input .*)?"


def _where_ko(text: str | None) -> str:
    match = _WHERE.match(text or "")
    return f" (셀 {match['cell']}, {match['line']}번째 줄)" if match else (text or "")


def _inputs_ko(text: str | None) -> str:
    return f" (입력: {text[len(' for input '):]})" if text else ""


def _none_ko(text: str) -> str:
    return "없음" if text == "none" else text


_HINTS_KO = {" (the memory, CPU-time or process limit, or a hard kill)": " (메모리, CPU 시간 또는 프로세스 수 제한, 혹은 강제 종료)",
             " (the CPU-time limit)": " (CPU 시간 제한)", " (a crash in native code)": " (네이티브 코드의 충돌)", "": ""}

# (English pattern, matched against the whole message; Korean, a function of the match).
# Order matters: the first pattern that matches wins, so the loosest ones come last.
# The sandbox's and the notebook's messages, which a suite may quote after words of its own:
SANDBOX: list[tuple[str, object]] = [
    (r"your code did not finish in time(?P<where> \(.*\))?",
     lambda m: f"코드가 제한 시간 안에 끝나지 않았습니다{_where_ko(m['where'])}"),
    (r"your code did not finish within (?P<s>[\d.e+]+) s", lambda m: f"코드가 {m['s']}초 안에 끝나지 않았습니다"),
    (r"your code ran, but checking what it returned raised (?P<type>[\w.]+): (?P<msg>.*) \(a wrong type or shape\?\)",
     lambda m: f"코드는 실행되었지만 반환값을 검사하다가 {m['type']} 예외가 났습니다: {m['msg']} (타입이나 shape가 틀렸나요?)"),
    (r"your code raised (?P<type>[\w.]+): (?P<msg>.*?)(?P<where> \(cell \d+, line \d+\))?",
     lambda m: f"코드에서 {m['type']} 예외가 발생했습니다: {m['msg']}{_where_ko(m['where'])}"),
    (r"the submission used up its total time budget \((?P<s>[\d.e+]+) s\)",
     lambda m: f"제출물이 전체 채점 시간({m['s']}초)을 다 썼습니다"),
    (r"the sandbox crashed too many times; remaining tests fail",
     lambda m: "샌드박스가 너무 여러 번 멈춰서 남은 검사는 실패로 처리됩니다"),
    (r"the sandbox failed while loading the checks: (?P<x>.*)",
     lambda m: f"검사를 불러오는 중 샌드박스가 멈췄습니다: {translate(m['x'], 'ko')}"),
    (r"the checks could not start: (?P<x>.*)", lambda m: f"검사를 시작할 수 없었습니다: {translate(m['x'], 'ko')}"),
    (r"the sandbox process was killed by (?P<sig>\w+)(?P<hint>.*)",
     lambda m: f"샌드박스 프로세스가 {m['sig']} 신호로 종료되었습니다{_HINTS_KO.get(m['hint'], m['hint'])}"),
    (r"the sandbox process exited with status (?P<code>-?\d+) \(os\._exit, sys\.exit or a crash\)",
     lambda m: f"샌드박스 프로세스가 상태 {m['code']}로 끝났습니다 (os._exit, sys.exit 또는 충돌)"),
    (r"the sandbox stopped answering", lambda m: "샌드박스가 응답하지 않습니다"),
    (r"the sandbox sent a malformed reply \((?P<x>.*)\); it was restarted",
     lambda m: f"샌드박스가 잘못된 응답을 보내 다시 시작했습니다 ({m['x']})"),
    (r"a hidden check failed", lambda m: "숨은 검사 하나가 실패했습니다"),
    (r"the hidden test could not use your result \((?P<t>\w+)\)",
     lambda m: f"숨은 검사가 여러분의 결과를 사용할 수 없었습니다 ({m['t']})"),
    (r"skipped", lambda m: "건너뜀"),
    (r"failed", lambda m: "실패"),
    (r"stopped after (?P<s>[\d.e+]+) s", lambda m: f"{m['s']}초 후 중단되었습니다"),
    (r"(?P<x>.*); this and later cells did not run",
     lambda m: f"{translate(m['x'], 'ko')}; 이 셀과 이후 셀은 실행되지 않았습니다"),
    (r"cell (?P<p>\d+) repeats grade_id '(?P<cid>.*)'; the copy was ignored",
     lambda m: f"셀 {m['p']}이(가) grade_id '{m['cid']}'를 다시 씁니다. 이 복사본은 무시했습니다"),
    (r"graded cell '(?P<cid>.*)' \(cell (?P<p>\d+)\) was edited; the judge ignores graded cells, so the edit changes nothing",
     lambda m: f"채점 셀 '{m['cid']}'(셀 {m['p']})이(가) 수정되었습니다. 채점기는 채점 셀을 실행하지 않으므로 바뀌는 것은 없습니다"),
    (r"read-only cell '(?P<cid>.*)' \(cell (?P<p>\d+)\) was edited; the original was run instead",
     lambda m: f"읽기 전용 셀 '{m['cid']}'(셀 {m['p']})이(가) 수정되어 원본을 대신 실행했습니다"),
    (r"cell '(?P<cid>.*)' is missing from the submission", lambda m: f"셀 '{m['cid']}'이(가) 제출물에 없습니다"),
]
# course.judge.check's: `what` and the inputs are the suite author's, shown as written.
CHECKS: list[tuple[str, object]] = [
    # course.judge.described
    (r"(?P<what>.*?): the probe recorded nothing to check", lambda m: f"{m['what']}: 검사할 기록이 없습니다"),
    (r"(?P<what>.*?): returned (?P<got>\S+), expected (?P<want>\S+)",
     lambda m: f"{m['what']}: {m['want']}을(를) 반환해야 하는데 {m['got']}을(를) 반환했습니다"),
    (r"(?P<what>.*?): dtype (?P<got>\S+), expected (?P<want>\S+)",
     lambda m: f"{m['what']}: dtype이 {m['got']}인데 {m['want']}이어야 합니다"),
    (r"(?P<what>.*?): shape (?P<got>\(.*?\)|None), expected (?P<want>\(.*?\))",
     lambda m: f"{m['what']}: shape이 {m['got']}인데 {m['want']}이어야 합니다"),
    (r"(?P<what>.*?): requires_grad is (?P<got>\w+), expected (?P<want>\w+) \((?P<why>the result is cut off from the graph|detach it)\)",
     lambda m: f"{m['what']}: requires_grad가 {m['got']}인데 {m['want']}이어야 합니다 ("
               + ("결과가 계산 그래프에서 끊겼습니다" if m['why'].startswith("the result") else "detach 하세요") + ")"),
    (r"(?P<what>.*?): on device (?P<got>\S+), expected (?P<want>\S+)",
     lambda m: f"{m['what']}: 장치가 {m['got']}인데 {m['want']}이어야 합니다"),
    (r"(?P<what>.*?): shares memory with input\(s\) (?P<got>.*?), expected (?P<want>.*?) \(return a new tensor, or a view where asked\)",
     lambda m: f"{m['what']}: 메모리를 공유하는 입력이 {_none_ko(m['got'])}인데 {_none_ko(m['want'])}이어야 합니다 "
               "(새 텐서를 반환하세요. 뷰는 요구된 곳에서만)"),
    (r"(?P<what>.*?): shape (?P<got>\(.*?\)) but expected (?P<want>\(.*?\))" + _INPUTS,
     lambda m: f"{m['what']}: shape이 {m['got']}인데 {m['want']}이어야 합니다{_inputs_ko(m['inputs'])}"),
    (r"(?P<what>.*?): dtype (?P<d>\S+) is not numeric" + _INPUTS,
     lambda m: f"{m['what']}: dtype {m['d']}은(는) 숫자가 아닙니다{_inputs_ko(m['inputs'])}"),
    (r"(?P<what>.*?): (?P<n>\d+) non-finite value\(s\), first at index (?P<i>\(.*?\))" + _INPUTS,
     lambda m: f"{m['what']}: 유한하지 않은 값(NaN, inf)이 {m['n']}개, 첫 번째는 인덱스 {m['i']}{_inputs_ko(m['inputs'])}"),
    (r"(?P<what>.*?): (?P<n>\d+) of (?P<total>\d+) value\(s\) out of tolerance; max abs error (?P<e>\S+)"
     r"(?: \(rel (?P<rel>\S+)\))? at index (?P<i>\(.*?\)), allowed atol=(?P<a>\S+) rtol=(?P<r>\S+?)" + _INPUTS,
     lambda m: (f"{m['what']}: 값 {m['total']}개 중 {m['n']}개가 허용 오차를 벗어납니다. 최대 절대 오차 {m['e']}"
                + (f" (상대 {m['rel']})" if m['rel'] else "")
                + f", 인덱스 {m['i']}, 허용 atol={m['a']} rtol={m['r']}{_inputs_ko(m['inputs'])}")),
    (r"(?P<what>.*?): expected an array of numbers, got (?P<t>\S+)",
     lambda m: f"{m['what']}: 숫자 배열이어야 하는데 {m['t']}입니다"),
    (r"(?P<what>.*?): got (?P<got>.*?)(?:, expected (?P<want>.*))?",
     lambda m: f"{m['what']}: 결과 {m['got']}" + (f", 기대값 {m['want']}" if m['want'] else "")),
]
JUDGE = SANDBOX + CHECKS
_COMPILED = [(re.compile(pattern, re.S), korean) for pattern, korean in JUDGE]


def translate(message: str, language: str) -> str:
    """A judge message in the language; English, or a message no pattern knows, as written."""
    if language != "ko" or not message:
        return message
    for pattern, korean in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            return korean(match)
    # A suite may put its own words before the judge's ("attention [case]: your code raised ..."):
    # keep them, translate the rest.
    start = message.find(": ")
    while start != -1:
        rest = message[start + 2:]
        if any(pattern.fullmatch(rest) for pattern, _ in _COMPILED[:len(SANDBOX)]):
            return message[:start + 2] + translate(rest, language)
        start = message.find(": ", start + 2)
    return message


def course_language(root: Path) -> str:
    """`language` from the course's course.toml (top level or under [course]); English without one.
    One reader for the whole file (course.schedule): a course.toml it refuses is refused here too."""
    from course import schedule

    return schedule.load(Path(root)).language

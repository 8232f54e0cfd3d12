"""The SOP as data: the bundled Sumbawa SOP, the loader's checks, and the Mermaid diagram."""

from __future__ import annotations

import json
import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.cli import main
from connector.errors import SopError
from connector.sop.diagram import mermaid
from connector.sop.loader import load_default_sop, load_sop, parse_sop
from connector.sop.model import Decision, Role, TimeStandard, TimeUnit

README = Path(__file__).resolve().parents[1] / "README.md"
SOURCE = "<test>"

# The "Uraian Prosedur" column of SOP 555/568/DKIST/2021, copied from the signed document
# (including its italics and spelling); the bundled data must quote it word for word.
SOP_TEXT = {
    1: "Surat Permohonan Masuk dari OPD yang akan dibuatkan aplikasi",
    2: "Kepala Dinas mendisposisikan surat ke Kepala Bidang TI",
    3: "Kepala Bidang memverifikasi dan mendisposisikan surat ke Kepala Seksi Aplikasi & "
       "E-Government",
    4: "Kepala Seksi menunjuk Staf / Tenaga Ahli Programmer sebagai pengembang aplikasi dan "
       "membentuk Tim Pengembangan Aplikasi Kominfo",
    5: "Kepala Seksi Aplikasi & E-Government melakukan Analisis terhadap Aplikasi yang akan "
       "dibangun: a) kebutuhan, ruang lingkup dan cakupan aplikasi b) ketersediaan aplikasi lain "
       "yang sudah ada atau aplikasi lain yang berhubungan dan perlu diintegrasikan c) kebutuhan "
       "infrastruktur, SDM dan anggaran",
    6: "Kepala Bidang TI memeriksa dan memverifikasi ketersediaan atas kebutuhan: infrastruktur, "
       "SDM dan anggaran",
    7: "Bidang TI membuat laporan ketidakterediaan infrastruktur dan/atau SDM dan/atau anggaran "
       "dan bersurat kepada OPD terkait",
    8: "Kepala Seksi Aplikasi & E-Government membuat project baru, menyediakan <i>sourcecode "
       "repository</i> , dan menugaskan tenaga ahli sebagai Tim Pengembang Aplikasi Kominfo",
    9: "Tim Pengembang Aplikasi Kominfo menyusun rencana pengembangan aplikasi dengan mengacu "
       "pada standarisasi Pembangunan dan Pengembangan TIK Pemerintah Kabupaten Sumbawa",
    10: "Tim Pengembang Aplikasi Kominfo mempresentasikan rencana pengembangan aplikasi kepada "
        "Tim Terkait dari OPD terkait berupa <i>perancangan aplikasi</i> , aplikasi sejenis yang "
        "pernah dibangun atau aplikasi yang terkait, alur bisnis, dan jadwal pengerjaan",
    11: "Tim Teknis dari OPD terkait memberikan tanggapan terhadap rencana pengembangan "
        "aplikasi. Jika menyetujui, Tim Pengembang Aplikasi Kominfo melanjutkan dengan proses "
        "pengembangan aplikasi. Jika tidak menyetujui, Tim Pengembang Aplikasi Kominfo menyusun "
        "ulang rencana pengembangan aplikasi",
    12: "Proses pengembangan aplikasi oleh Tim Pengembang Aplikasi Kominfo",
    13: "Tim Pengembangan Aplikasi Kominfo mempresentasikan hasil aplikasi yang sudah "
        "dibangun/dikembangkan dengan menyertakan hasil pengujian antara lain berupa: "
        "<i>usability testing</i> , petunjuk pengguna, <i>system requirement</i> , petunjuk "
        "instalasi",
    14: "Tim Teknis OPD terkait memberikan tanggapan terhadap hasil pengembangan aplikasi, "
        "apabila Tim Teknis menyetujui maka pengembangan aplikasi telah selesai, jika tidak maka "
        "kembali ke tahap pengembangan.",
    15: "Tim Pengembang Aplikasi Kominfo memberikan laporan kepada Kepala Seksi Aplikasi & "
        "E-Government",
    16: "Kepala Bidang TI menerima laporan pembuatan aplikasi dari Kepala Seksi Aplikasi & "
        "E-Government",
    17: "Setelah semua proses selesai, Tim Pengembang Aplikasi Kominfo membuat Berita Acara "
        "Pekerjaan yang diketahui pihak pemohon (OPD) dan Kepala Dinas Kominfo",
}

ROLES = {
    1: Role.OPD_PEMOHON, 2: Role.KEPALA_DINAS, 3: Role.KEPALA_BIDANG_TI,
    4: Role.KEPALA_SEKSI_APLIKASI, 5: Role.KEPALA_SEKSI_APLIKASI, 6: Role.KEPALA_BIDANG_TI,
    7: Role.BIDANG_TI, 8: Role.KEPALA_SEKSI_APLIKASI, 9: Role.TIM_PENGEMBANG,
    10: Role.TIM_PENGEMBANG, 11: Role.TIM_TEKNIS_OPD, 12: Role.TIM_PENGEMBANG,
    13: Role.TIM_PENGEMBANG, 14: Role.TIM_TEKNIS_OPD, 15: Role.TIM_PENGEMBANG,
    16: Role.KEPALA_BIDANG_TI, 17: Role.TIM_PENGEMBANG,
}

HK, HARI = TimeUnit.HARI_KERJA, TimeUnit.HARI
TIMES = {2: TimeStandard(1, HK), 5: TimeStandard(1, HK), 9: TimeStandard(1, HK),
         12: TimeStandard(35, HK, cumulative=True), 13: TimeStandard(1, HARI),
         14: TimeStandard(2, HK)}


def _plain(sop_text: str) -> str:
    """The SOP's words without its italics markup and the space it leaves before commas."""
    return " ".join(re.sub(r"\s+,", ",", re.sub(r"</?i>", "", sop_text)).split())


def step(number: int, follow: str = "terminal = true", *, role: str = "bidang_ti",
         extra: str = "") -> str:
    """One [[steps]] table of a small test SOP."""
    return (f'[[steps]]\nnumber = {number}\ntitle = "Langkah {number}"\n'
            f'text = "Teks langkah {number}"\nrole = "{role}"\n{follow}\n{extra}\n')


def sop_toml(*steps: str) -> str:
    return '[sop]\nnomor = "1/TEST/2026"\nnama = "Uji"\n\n' + "\n".join(steps)


def problems_of(text: str) -> list[str]:
    with pytest.raises(SopError) as caught:
        parse_sop(text, source=SOURCE)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


@pytest.fixture(autouse=True)
def _no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI runs must not pick up a config.toml or $SOP_CONNECTOR_CONFIG from outside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOP_CONNECTOR_CONFIG", raising=False)


# --- the bundled SOP -------------------------------------------------------------------------


def test_bundled_sop_has_17_steps_in_order_with_the_sops_roles() -> None:
    sop = load_default_sop()
    assert sop.nomor == "555/568/DKIST/2021"
    assert sop.nama == "Layanan Permohonan Pembuatan Aplikasi"
    assert [s.number for s in sop.steps] == list(range(1, 18))
    assert {s.number: s.role for s in sop.steps} == ROLES
    assert sop.first.number == 1


def test_bundled_time_standards_are_the_sops() -> None:
    sop = load_default_sop()
    assert {s.number: s.time for s in sop.steps if s.time is not None} == TIMES
    assert sop.step(12).time is not None and sop.step(12).time.label == "maks. 35 hari kerja"
    assert sop.step(13).time is not None and sop.step(13).time.label == "1 hari"


def test_bundled_decisions_and_ends() -> None:
    sop = load_default_sop()
    decisions = {s.number: s.decision for s in sop.steps if s.decision is not None}
    assert decisions == {6: Decision(ya=8, tidak=7), 11: Decision(ya=12, tidak=9),
                         14: Decision(ya=15, tidak=12)}
    assert [s.number for s in sop.steps if s.is_terminal] == [7, 17]
    straight = {s.number: s.next for s in sop.steps if s.next is not None}
    assert straight == {n: n + 1 for n in range(1, 17) if n not in (6, 7, 11, 14)}


def test_bundled_step_texts_quote_the_sop() -> None:
    sop = load_default_sop()
    assert {s.number: s.text for s in sop.steps} == {n: _plain(t) for n, t in SOP_TEXT.items()}


def test_sop_step_lookup_names_a_missing_step() -> None:
    with pytest.raises(KeyError, match="no step 18"):
        load_default_sop().step(18)


def test_load_sop_none_is_the_bundled_sop_and_a_file_copy_is_equal(tmp_path: Path) -> None:
    copy = tmp_path / "sop.toml"
    copy.write_text(resources.files("connector.sop").joinpath("sumbawa.toml").read_text("utf-8"),
                    encoding="utf-8")
    assert load_sop(None) == load_default_sop() == load_sop(copy)


# --- the loader's checks ---------------------------------------------------------------------


def test_a_small_valid_sop_parses() -> None:
    sop = parse_sop(sop_toml(step(1, "next = 2"), step(2, "decision = { ya = 3, tidak = 1 }"),
                             step(3, extra="time = { amount = 2, unit = \"hari\" }")),
                    source=SOURCE)
    assert sop.nomor == "1/TEST/2026"
    assert [s.successors for s in sop.steps] == [(2,), (3, 1), ()]
    assert sop.step(3).time == TimeStandard(2, HARI)


def test_duplicate_step_number() -> None:
    assert problems_of(sop_toml(step(1, "next = 2"), step(2), step(2))) == [
        f"{SOURCE}: step 2: the number is used more than once"]


def test_unreachable_step() -> None:
    assert problems_of(sop_toml(step(1, "next = 2"), step(2), step(3))) == [
        f"{SOURCE}: step 3: unreachable from step 1"]


@pytest.mark.parametrize(("decision", "missing"), [
    ("decision = { ya = 2 }", "'tidak'"),
    ("decision = { tidak = 2 }", "'ya'"),
    ("decision = {}", "'ya' and 'tidak'"),
])
def test_decision_with_a_missing_branch(decision: str, missing: str) -> None:
    assert problems_of(sop_toml(step(1, decision), step(2))) == [
        f"{SOURCE}: step 1: a decision needs both branches 'ya' and 'tidak'; missing {missing}"]


def test_decision_with_an_unknown_branch() -> None:
    problems = problems_of(sop_toml(step(1, "decision = { ya = 2, tidak = 2, mungkin = 2 }"),
                                    step(2)))
    assert problems == [f"{SOURCE}: step 1: unknown key 'decision.mungkin'; known: "
                        "decision.tidak, decision.ya"]


def test_unknown_role() -> None:
    known = ", ".join(r.value for r in Role)
    assert problems_of(sop_toml(step(1, "next = 2"), step(2, role="kepala_desa"))) == [
        f"{SOURCE}: step 2: unknown role 'kepala_desa'; known roles: {known}"]


def test_terminal_step_that_also_has_next() -> None:
    assert problems_of(sop_toml(step(1, "next = 2"), step(2, "terminal = true\nnext = 1"))) == [
        f"{SOURCE}: step 2: needs exactly one of 'next', 'decision' or 'terminal = true', "
        "found next, terminal"]


def test_step_without_a_follower() -> None:
    assert problems_of(sop_toml(step(1, "next = 2"), step(2, ""))) == [
        f"{SOURCE}: step 2: needs exactly one of 'next', 'decision' or 'terminal = true'"]


def test_terminal_false_is_refused() -> None:
    assert problems_of(sop_toml(step(1, "terminal = false"))) == [
        f"{SOURCE}: step 1: 'terminal' may only be true"]


@pytest.mark.parametrize("steps", [
    [step(1, "next = 9")],
    [step(1, "decision = { ya = 2, tidak = 9 }"), step(2)],
])
def test_reference_to_a_missing_step(steps: list[str]) -> None:
    assert problems_of(sop_toml(*steps)) == [
        f"{SOURCE}: step 1: leads to step 9, which does not exist"]


def test_missing_step_1() -> None:
    assert problems_of(sop_toml(step(2, "next = 3"), step(3))) == [
        f"{SOURCE}: step 1: missing; every procedure starts at step 1"]


@pytest.mark.parametrize(("time", "expected"), [
    ('{ amount = 2, unit = "minggu" }', ["'time.unit' must be one of hari, hari_kerja, "
                                         "got 'minggu'"]),
    ("{ amount = 2 }", ["'time.unit' must be one of hari, hari_kerja, got None"]),
    ('{ amount = 0, unit = "hari" }', ["'time.amount' must be a whole number of at least 1"]),
    ('{ amount = 1.5, unit = "hari_kerja" }',
     ["'time.amount' must be a whole number of at least 1"]),
    ('{ amount = true, unit = "hari_kerja" }',
     ["'time.amount' must be a whole number of at least 1"]),
    ('{ amount = 0, unit = "bulan" }', ["'time.amount' must be a whole number of at least 1",
                                        "'time.unit' must be one of hari, hari_kerja, "
                                        "got 'bulan'"]),
    ('{ amount = 1, unit = ["hari"] }', ["'time.unit' must be one of hari, hari_kerja, "
                                         "got ['hari']"]),
    ('{ amount = 1, unit = "hari", units = "hari" }',
     ["unknown key 'time.units'; known: time.amount, time.cumulative, time.unit"]),
    ('"1 hari kerja"', ["'time' must be a table { amount = N, unit = \"...\" }"]),
    ('{ amount = 1, unit = "hari", cumulative = true }',
     ["'time.cumulative' applies to hari_kerja only"]),
    ('{ amount = 1, unit = "hari_kerja", cumulative = "ya" }',
     ["'time.cumulative' must be true or false"]),
])
def test_bad_time_standards(time: str, expected: list[str]) -> None:
    assert problems_of(sop_toml(step(1, extra=f"time = {time}"))) == [
        f"{SOURCE}: step 1: {e}" for e in expected]


def test_invalid_toml() -> None:
    (problem,) = problems_of('[[steps]]\nnumber = 1\ntitle = "tanpa tutup\n')
    assert problem.startswith(f"{SOURCE}: not valid TOML: ")


def test_no_steps_at_all() -> None:
    assert problems_of('[sop]\nnomor = "x"\n') == [f"{SOURCE}: no [[steps]] found"]
    assert problems_of("steps = []\n") == [f"{SOURCE}: no [[steps]] found"]


def test_steps_that_are_not_tables() -> None:
    assert problems_of('steps = [1, "dua"]\n') == [
        f"{SOURCE}: step #1 in file order: must be a table",
        f"{SOURCE}: step #2 in file order: must be a table",
    ]


@pytest.mark.parametrize("number", ["0", "-1", '"1"', "true", "1.0"])
def test_step_number_must_be_a_positive_whole_number(number: str) -> None:
    text = sop_toml(step(1, "next = 2"), f'[[steps]]\nnumber = {number}\ntitle = "t"\n')
    assert problems_of(text) == [
        f"{SOURCE}: step #2 in file order: 'number' must be a positive whole number"]


def test_sop_header_that_is_not_a_table() -> None:
    text = "sop = 1\n" + step(1)
    assert problems_of(text) == [f"{SOURCE}: [sop] must be a table (nomor, nama, instansi)"]


def test_step_fields_are_checked() -> None:
    bad = ('[[steps]]\nnumber = 1\ntitle = ""\ntext = 3\nrole = "bidang_ti"\n'
           'inputs = "Surat"\noutputs = [1]\nrequires_document = "ya"\nterminal = true\n')
    assert problems_of(bad) == [
        f"{SOURCE}: step 1: 'title' must be a non-empty string",
        f"{SOURCE}: step 1: 'text' must be a non-empty string",
        f"{SOURCE}: step 1: 'inputs' must be a list of strings",
        f"{SOURCE}: step 1: 'outputs' must be a list of strings",
        f"{SOURCE}: step 1: 'requires_document' must be true or false",
    ]


def test_a_misspelt_key_is_reported_not_ignored() -> None:
    (problem,) = problems_of(sop_toml(step(1, extra="requires_documents = true")))
    assert problem.startswith(f"{SOURCE}: step 1: unknown key 'requires_documents'; known: ")
    assert "requires_document," in problem


def test_a_loop_without_an_end_is_refused() -> None:
    assert problems_of(sop_toml(step(1, "next = 2"), step(2, "next = 1"))) == [
        f"{SOURCE}: step 1: no terminal step can be reached from here, so a case would never end",
        f"{SOURCE}: step 2: no terminal step can be reached from here, so a case would never end",
    ]


def test_a_broken_step_does_not_make_its_neighbours_look_broken() -> None:
    """Step 2's unknown role is the only problem: 1 still leads to 2, and 3 is still reached."""
    problems = problems_of(sop_toml(step(1, "next = 2"), step(2, "next = 3", role="lurah"),
                                    step(3)))
    assert len(problems) == 1
    assert problems[0].startswith(f"{SOURCE}: step 2: unknown role 'lurah'")


def test_several_problems_are_reported_at_once() -> None:
    text = sop_toml(
        step(1, "next = 2"),
        step(2, "decision = { ya = 3 }"),
        step(3, "next = 4", role="camat"),
        step(4, "terminal = true\nnext = 1"),
        step(5, "next = 99", extra='time = { amount = 1, unit = "jam" }'),
        step(5),
    )
    problems = problems_of(text)
    assert problems == [
        f"{SOURCE}: step 2: a decision needs both branches 'ya' and 'tidak'; missing 'tidak'",
        f"{SOURCE}: step 3: unknown role 'camat'; known roles: "
        + ", ".join(r.value for r in Role),
        f"{SOURCE}: step 4: needs exactly one of 'next', 'decision' or 'terminal = true', "
        "found next, terminal",
        f"{SOURCE}: step 5: 'time.unit' must be one of hari, hari_kerja, got 'jam'",
        f"{SOURCE}: step 5: the number is used more than once",
    ]


# --- files and the `sop check` command ---------------------------------------------------------


def test_load_sop_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "variant.toml"
    path.write_text(sop_toml(step(1, "next = 2"), step(2, role="kepala_desa")), encoding="utf-8")
    with pytest.raises(SopError) as caught:
        load_sop(path)
    assert caught.value.problems[0].startswith(f"{path}: step 2: unknown role 'kepala_desa'")


def test_load_sop_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SopError) as caught:
        load_sop(tmp_path / "nope.toml")
    assert caught.value.problems == [
        f"{tmp_path / 'nope.toml'}: cannot read the SOP file (No such file or directory)"]
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'[[steps]]\ntitle = "Pembuatan aplikasi \xe9"\n')
    with pytest.raises(SopError, match=r"latin1\.toml: not UTF-8 text"):
        load_sop(latin1)


def test_sop_check_accepts_the_bundled_sop(tmp_path: Path) -> None:
    path = tmp_path / "sumbawa.toml"
    path.write_text(resources.files("connector.sop").joinpath("sumbawa.toml").read_text("utf-8"),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["sop", "check", str(path)])
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"{path}: ok, 17 steps\n", "")


def test_sop_check_reports_every_problem_on_stderr_with_status_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(sop_toml(step(1, "next = 2"), step(2, "decision = { ya = 3 }"),
                             step(3, role="kepala_desa"), step(4)), encoding="utf-8")
    result = CliRunner().invoke(main, ["sop", "check", str(path)])
    assert result.exit_code == 2
    assert type(result.exception) is SystemExit
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {path}: step 2: a decision needs both branches 'ya' and 'tidak'; missing 'tidak'",
        f"error: {path}: step 3: unknown role 'kepala_desa'; known roles: "
        + ", ".join(r.value for r in Role),
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", [b"not = [valid", b"\xff\xfe", b'sop = "x"\n'])
def test_sop_check_on_unusable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["sop", "check", str(path)])
    assert result.exit_code == 2
    assert type(result.exception) is SystemExit
    assert result.stderr.startswith(f"error: {path}: ")


def test_sop_check_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sop", "check", str(tmp_path / "gone.toml")])
    assert result.exit_code == 2
    assert "cannot read the SOP file" in result.stderr


# --- the diagram -------------------------------------------------------------------------------


def _readme_mermaid() -> str:
    blocks = re.findall(r"```mermaid\n(.*?)```", README.read_text("utf-8"), flags=re.DOTALL)
    assert len(blocks) == 1, "README.md must hold exactly one mermaid block"
    return str(blocks[0])


def test_diagram_command_equals_the_readme_copy() -> None:
    result = CliRunner().invoke(main, ["sop", "diagram"])
    assert result.exit_code == 0, result.output
    assert result.stdout == _readme_mermaid()
    assert result.stdout == mermaid(load_default_sop())


def test_diagram_has_every_step_and_labelled_branches() -> None:
    text = mermaid(load_default_sop())
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes = [int(m[1]) for line in lines if (m := re.match(r"    S(\d+)[\[({]", line))]
    assert nodes == list(range(1, 18))
    edges = [line.strip() for line in lines if "-->" in line]
    for number, ya, tidak in [(6, 8, 7), (11, 12, 9), (14, 15, 12)]:
        assert f"S{number} -- ya --> S{ya}" in edges
        assert f"S{number} -- tidak --> S{tidak}" in edges
        assert re.search(rf"^    S{number}\{{\"{number}\. ", text, flags=re.MULTILINE)
    assert len(edges) == 12 + 2 * 3  # 12 straight steps, 3 decisions, 2 ends
    assert not any(e.startswith(("S7 ", "S17 ")) for e in edges)
    assert '⏱ maks. 35 hari kerja"]' in text and '⏱ 1 hari"]' in text


def test_diagram_escapes_quotes_in_titles() -> None:
    sop = parse_sop(sop_toml(step(1).replace('"Langkah 1"', '"Surat \\"penting\\""')),
                    source=SOURCE)
    assert 'S1(["1. Surat #quot;penting#quot;<br/><i>Bidang TI</i>"])' in mermaid(sop)


def test_diagram_of_a_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(sop_toml(step(1, "decision = { ya = 2, tidak = 3 }"), step(2), step(3)),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["sop", "diagram", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "flowchart TD\n"
        '    S1{"1. Langkah 1<br/><i>Bidang TI</i>"}\n'
        '    S2(["2. Langkah 2<br/><i>Bidang TI</i>"])\n'
        '    S3(["3. Langkah 3<br/><i>Bidang TI</i>"])\n'
        "    S1 -- ya --> S2\n"
        "    S1 -- tidak --> S3\n"
    )


# --- fuzzing: only SopError ----------------------------------------------------------------------

_ROLE_NAMES = [r.value for r in Role]
_KEYS = st.sampled_from(["number", "title", "role", "time", "next", "ya", "unit", "x"])
_SCALARS = st.one_of(
    st.integers(-2, 6), st.integers(), st.booleans(), st.text(max_size=8),
    st.sampled_from([*_ROLE_NAMES, "hari_kerja", "hari", "jam", ""]),
    st.floats(allow_nan=False), st.dates(min_value=date(1, 1, 1)),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)
_STEP_KEYS = ["number", "title", "text", "role", "inputs", "outputs", "time",
              "requires_document", "next", "decision", "terminal", "nxt"]


@st.composite
def sop_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible SOP of 1 to 6 steps, then up to 3 random corruptions of it."""
    n = draw(st.integers(1, 6))
    steps: list[Any] = []
    for number in range(1, n + 1):
        found: dict[str, Any] = {"number": number, "title": "t", "text": "x",
                                 "role": draw(st.sampled_from(_ROLE_NAMES))}
        follow = "terminal" if number == n else draw(st.sampled_from(["next", "decision"]))
        if follow == "next":
            found["next"] = number + 1
        elif follow == "decision":
            found["decision"] = {"ya": number + 1, "tidak": draw(st.integers(1, n))}
        else:
            found["terminal"] = True
        if draw(st.booleans()):
            found["time"] = {"amount": draw(st.integers(1, 40)),
                             "unit": draw(st.sampled_from(["hari_kerja", "hari"]))}
        steps.append(found)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, n - 1))
        where = draw(st.sampled_from(["step", "key", "delete", "time", "decision"]))
        if where == "step":
            steps[i] = draw(_VALUES)
        elif isinstance(steps[i], dict) and where == "delete" and steps[i]:
            del steps[i][draw(st.sampled_from(sorted(steps[i])))]
        elif isinstance(steps[i], dict) and where in ("time", "decision"):
            inner = steps[i].setdefault(where, {})
            names = ["amount", "unit", "x"] if where == "time" else ["ya", "tidak", "x"]
            if isinstance(inner, dict):
                inner[draw(st.sampled_from(names))] = draw(_VALUES)
        elif isinstance(steps[i], dict):
            steps[i][draw(st.sampled_from(_STEP_KEYS))] = draw(_VALUES)
    document: dict[str, Any] = {"steps": draw(st.permutations(steps))}
    if draw(st.booleans()):
        document["sop"] = draw(st.dictionaries(st.sampled_from(["nomor", "nama"]), _VALUES)
                               | _VALUES)
    return document


def _toml_value(value: Any) -> str:
    """An inline TOML value (bools and dates before ints and strings: bool is an int)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml(document: dict[str, Any]) -> str:
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in document.items())


def _check_only_sop_error(text: str) -> None:
    try:
        sop = parse_sop(text, source=SOURCE)
    except SopError as exc:
        assert exc.problems and all(p.startswith(f"{SOURCE}: ") for p in exc.problems)
        return
    numbers = {s.number for s in sop.steps}
    assert 1 in numbers and len(numbers) == len(sop.steps)
    assert all(t in numbers for s in sop.steps for t in s.successors)
    assert any(s.is_terminal for s in sop.steps)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sop_documents())
def test_random_sop_data_only_ever_raises_sop_error(document: dict[str, Any]) -> None:
    _check_only_sop_error(_toml(document))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_ever_raises_sop_error(text: str) -> None:
    _check_only_sop_error(text)


def test_the_fuzz_serializer_round_trips() -> None:
    """The generator must produce real TOML, or the property above would test nothing."""
    import tomllib

    document = {"sop": {"nomor": "a\"b\n"}, "steps": [{"number": 1, "time": {"amount": 2},
                                                        "on": date(2026, 3, 16), "f": 1.5}, 3]}
    assert tomllib.loads(_toml(document)) == document
    assert parse_sop(_toml({"steps": [{"number": 1, "title": "t", "text": "x",
                                       "role": "bidang_ti", "terminal": True}]}),
                     source=SOURCE).steps[0].title == "t"


@pytest.mark.parametrize("extra, expected", [
    ('automation = "deploy"', "unknown automation 'deploy'; known: provision_repository, "
                              "berita_acara"),
    ('documents = ["kwitansi"]', "unknown documents 'kwitansi'; known: berita_acara, "
                                 "laporan_ketidaktersediaan, surat_opd"),
    ('gate = "review"', "unknown gate 'review'; known: deliverables"),
])
def test_unknown_automations_documents_and_gates_are_named(extra: str, expected: str) -> None:
    assert problems_of(sop_toml(step(1, extra=extra))) == [f"{SOURCE}: step 1: {expected}"]


def test_the_bundled_sop_marks_the_work_the_service_does() -> None:
    from connector.sop.model import Automation, DocumentKind, Gate

    sop = load_default_sop()
    assert sop.step(8).automation is Automation.PROVISION_REPOSITORY
    assert sop.step(17).automation is Automation.BERITA_ACARA
    assert sop.step(17).documents == (DocumentKind.BERITA_ACARA,)
    assert sop.step(7).documents == (DocumentKind.LAPORAN_KETIDAKTERSEDIAAN,
                                     DocumentKind.SURAT_OPD)
    assert sop.step(12).gate is Gate.DELIVERABLES


def test_the_steps_with_special_behaviour_are_named_by_the_data() -> None:
    """The team, development, provisioning, refusal and Berita Acara steps come from
    attributes of the SOP data, not from numbers in the code (issue 19)."""
    from connector.sop.model import Automation, DocumentKind

    sop = load_default_sop()
    assert sop.team_step == 4 and sop.step(4).records_team
    assert sop.development_step == 12
    assert sop.step_with(Automation.PROVISION_REPOSITORY) == 8
    assert sop.step_drawing_up(DocumentKind.LAPORAN_KETIDAKTERSEDIAAN) == 7
    assert sop.step_drawing_up(DocumentKind.BERITA_ACARA) == 17
    small = parse_sop(sop_toml(step(1, "next = 2"), step(2, extra="records_team = true")),
                      source=SOURCE)
    assert (small.team_step, small.development_step) == (2, None)


def test_records_team_must_be_a_boolean() -> None:
    assert problems_of(sop_toml(step(1, "next = 2"), step(2, extra='records_team = "ya"'))) == [
        f"{SOURCE}: step 2: 'records_team' must be true or false"]


def test_step_6_names_its_findings_and_redmine_offers_the_same_values() -> None:
    from connector.redmine.schema import RedmineSchema

    sop = load_default_sop()
    assert sop.findings_step == 6
    assert sop.step(6).findings == ("Infrastruktur", "SDM", "Anggaran")
    assert [s.number for s in sop.steps if s.findings] == [6]
    field = RedmineSchema().custom_field("verification_findings")
    assert (field.name, field.field_format, field.multiple) == ("Temuan Verifikasi", "list", True)
    assert field.possible_values == sop.step(6).findings


@pytest.mark.parametrize("follow, findings", [
    ("next = 2", '["Anggaran"]'), ("decision = { ya = 2, tidak = 2 }", '["SDM", "SDM"]'),
    ("decision = { ya = 2, tidak = 2 }", '["SDM", " "]'),
])
def test_findings_belong_to_a_decision_and_are_distinct(follow: str, findings: str) -> None:
    assert problems_of(sop_toml(step(1, follow, extra=f"findings = {findings}"), step(2))) == [
        f"{SOURCE}: step 1: 'findings' belongs to a decision step and lists distinct, "
        "non-empty names"]


def test_the_bundled_sop_says_who_knows_the_berita_acara_and_which_steps_need_documents() -> None:
    """Issue 16: step 17's output is "diketahui pihak pemohon (OPD) dan Kepala Dinas"; 7 and
    17 produce documents, so they need them whoever draws them up."""
    from connector.sop.model import Role

    sop = load_default_sop()
    assert sop.step(17).acknowledged_by == (Role.OPD_PEMOHON, Role.KEPALA_DINAS)
    assert [s.number for s in sop.steps if s.acknowledged_by] == [17]
    assert sop.step(7).requires_document and sop.step(17).requires_document


@pytest.mark.parametrize("extra, expected", [
    ('acknowledged_by = ["bupati"]', "step 1: 'acknowledged_by': unknown role 'bupati'; known "
                                     "roles: "),
    ('acknowledged_by = ["kepala_dinas", "kepala_dinas"]',
     "step 1: 'acknowledged_by' names a role more than once"),
    ('acknowledged_by = "kepala_dinas"', "step 1: 'acknowledged_by' must be a list of strings"),
])
def test_a_bad_acknowledged_by_is_named(extra: str, expected: str) -> None:
    [problem] = problems_of(sop_toml(step(1, extra=extra)))
    assert problem.startswith(f"{SOURCE}: {expected}")

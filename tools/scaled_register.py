"""A register many times the size of a real one: the same deliverables again under new ids, as if the task force
followed other plans beside this one. For the benchmarks (``bench/scale.py``) and the tests of a large plan.

    .venv/bin/python tools/scaled_register.py COPIES OUT.toml [--from REGISTER]

Copy k of a deliverable has the id ``ID-pK``; ids in ``depends_on``, ``deadline`` and ``interpreted_as`` follow
("før ID-p2"), and ``renamed_from`` is dropped, so every copy validates as the original does. Everything else
(parties, themes, policy, funding) is the original's, once.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

_BLOCK = re.compile(r"^\[\[deliverable\]\]\n.*?(?=^\[|\Z)", re.S | re.M)
_REFERS = ("id =", "depends_on =", "deadline =", "interpreted_as =")


def scaled_register(text: str, copies: int) -> str:
    """``text`` (a register) with every deliverable ``copies`` times in all (1: the register as it is)."""
    ids = [deliverable["id"] for deliverable in tomllib.loads(text).get("deliverable", [])]
    if copies <= 1 or not ids:
        return text
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?![\w-])")
    blocks = [re.sub(r"^renamed_from = .*\n", "", block, flags=re.M) for block in _BLOCK.findall(text)]
    parts = [text if text.endswith("\n") else text + "\n"]
    for copy in range(2, copies + 1):
        for block in blocks:
            lines = block.splitlines(keepends=True)
            parts.append("".join(pattern.sub(lambda match: f"{match.group(1)}-p{copy}", line)
                                 if line.startswith(_REFERS) else line for line in lines))
            if not parts[-1].endswith("\n\n"):
                parts.append("\n")
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("copies", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--from", dest="source", type=Path,
                        default=Path(__file__).resolve().parent.parent / "tracker" / "deliverables.toml")
    args = parser.parse_args()
    args.out.write_text(scaled_register(args.source.read_text(encoding="utf-8"), args.copies), encoding="utf-8")


if __name__ == "__main__":
    main()

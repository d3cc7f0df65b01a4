"""Rebuild ``knowledge/lang/syllables.txt``, the list of attested Vietnamese syllables.

Not imported at run time: run it by hand when the list should be refreshed.

    apt-get install tesseract-ocr tesseract-ocr-vie      # Debian packages
    .venv/bin/python knowledge/lang/make_syllables.py \
        /usr/share/tesseract-ocr/5/tessdata/vie.traineddata

Source: the word list of Tesseract's Vietnamese language model (``vie.traineddata`` of
tesseract-ocr/tessdata_fast, Apache-2.0, Copyright 2006-2022 Google Inc.), unpacked with the
Tesseract tools ``combine_tessdata`` and ``dawg2wordlist``. That list holds the whitespace-separated
words of Vietnamese web text, so Vietnamese syllables, plus some foreign words and initialisms.
Kept: lower-cased words that have the shape of a Vietnamese syllable (an optional onset from
the 27 written onsets, one to three vowel letters, an optional coda), which drops "facebook",
"bhxh", "atm" and the like. ``SUPPLEMENT`` adds common syllables the list lacks (found by
checking the bundled knowledge base and ``../shared/domain.md``, never an evaluation set).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent / "syllables.txt"
VOWELS = "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵ"
ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
SHAPE = re.compile(rf"^{ONSET}[{VOWELS}]{{1,3}}(?:ng|nh|ch|[cmnpt]|[iyou])?$")
SUPPLEMENT = (
    "y ý ỷ ô ồ ố ổ ộ gộp vẹt dượng mống nhòe nhoè tạc đày chắt rườm rành rơ moóc điếu tút khế"
)
HEADER = """\
# Attested Vietnamese syllables, lower case, NFC, one per line (see make_syllables.py).
# Source: word list of Tesseract's Vietnamese model (tesseract-ocr/tessdata_fast vie.traineddata,
# Apache-2.0, Copyright 2006-2022 Google Inc.), filtered to the shape of a Vietnamese syllable,
# plus a short supplement of common syllables the list lacks. Used to tell a real word the base
# does not contain from a typo: only non-words are spelling-corrected.
"""


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: apt-get install tesseract-ocr")
    return path


def extract(traineddata: Path) -> list[str]:
    """The words of the model's word list (needs the Tesseract tools on PATH)."""
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "vie."
        subprocess.run([_tool("combine_tessdata"), "-u", str(traineddata), str(prefix)], check=True)  # noqa: S603
        out = Path(tmp) / "words.txt"
        subprocess.run(  # noqa: S603
            [
                _tool("dawg2wordlist"),
                f"{prefix}lstm-unicharset",
                f"{prefix}lstm-word-dawg",
                str(out),
            ],
            check=True,
        )
        return out.read_text(encoding="utf-8").split()


def syllables(found: list[str]) -> list[str]:
    """Lower-cased, Vietnamese-shaped, deduplicated and sorted, with the supplement."""
    words = {unicodedata.normalize("NFC", w.lower()) for w in [*found, *SUPPLEMENT.split()]}
    return sorted(w for w in words if SHAPE.match(w))


def main(argv: list[str]) -> None:
    words = syllables(extract(Path(argv[0])))
    OUT.write_text(HEADER + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} syllables written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])

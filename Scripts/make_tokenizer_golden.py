#!/usr/bin/env python3
"""Writes Tests/ShiftAddTokenizerTests/Golden/smollm2_encode.json: texts and the ids Hugging Face
`tokenizers` gives them with the SmolLM2 vocabulary, merges and pre-tokenizer read from the GGUF.

`cases` are encoded as plain text (control-token texts spelled out) and each decodes back to its
text; `specialCases` are encoded with control-token texts parsed as those tokens.

Usage: Scripts/make_tokenizer_golden.py [--model GGUF]
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer_agreement as agreement  # noqa: E402

OUTPUT = os.path.join(agreement.REPO, "Tests", "ShiftAddTokenizerTests", "Golden", "smollm2_encode.json")
CASE_COUNT = 360
SPECIAL_CASE_COUNT = 30

MULTILINE = [
    "def f(x):\n    return x * 2\n\nprint(f(21))\n",
    "line one\r\nline two\r\n\r\nline four",
    "\n", "\n\n\n", " \n ", "\t\n\t", "a\n\n\nb", "end of text  \n",
    "# Title\n\n- item 1\n- item 2\n\n```swift\nlet x = 1\n```\n",
    "Q: What's 2+2?\nA: It's 4.\n",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=agreement.default_model_path())
    args = parser.parse_args()
    if not os.path.exists(args.model):
        sys.exit(f"missing {args.model}: run `make model`")

    vocabulary = agreement.read_vocabulary(args.model)
    reference = agreement.build_reference(vocabulary)
    rng = random.Random(7)

    # Every hand-written item, then a sample of the generated mixtures.
    fixed = MULTILINE + [c.strip("\n") for c in agreement.CODE] + agreement.PROSE + agreement.WORDS + agreement.EMOJI
    fixed += [" ".join(agreement.CONTRACTIONS), " ".join(agreement.PUNCTUATION), "".join(agreement.WHITESPACE)]
    fixed = list(dict.fromkeys(fixed))
    generated = [t for t in dict.fromkeys(agreement.generated_lines(rng, 1200)) if t not in fixed]
    texts = fixed + rng.sample(generated, CASE_COUNT - len(fixed))
    reference.encode_special_tokens = True
    cases = []
    for text in texts:
        ids = reference.encode(text, add_special_tokens=False).ids
        if reference.decode(ids) != text:
            sys.exit(f"reference does not round-trip {text!r}")
        cases.append({"text": text, "ids": ids})

    reference.encode_special_tokens = False
    special_texts = agreement.special_lines(vocabulary, rng)[:SPECIAL_CASE_COUNT]
    special_texts[0] = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    special_cases = [{"text": t, "ids": reference.encode(t, add_special_tokens=False).ids} for t in special_texts]

    golden = {
        "model": agreement.MODEL_NAME,
        "reference": "Hugging Face tokenizers: BPE from the GGUF vocabulary and merges, pre-tokenizer "
                     "Sequence[Digits(individual_digits=true), ByteLevel(add_prefix_space=false, use_regex=true)]",
        "cases": cases,
        "specialCases": special_cases,
    }
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases and {len(special_cases)} special cases to {OUTPUT} "
          f"({os.path.getsize(OUTPUT)} bytes)")


if __name__ == "__main__":
    main()

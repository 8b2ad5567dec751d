#!/usr/bin/env bash
# The converter ablation of Docs/converter.md: converts the default model once per row, measures
# perplexity on the first 16,384 tokens of the evaluation text (ctx 512) and prints a Markdown row
# per conversion with its effective bits, file size, perplexity and ratio to the fp32 reference.
# Usage: ablation.sh BIN_DIR MODEL EVAL_TEXT OUT_DIR [fast|default] [UNSEEN_TEXT]
# The text calibration row uses the second half of EVAL_TEXT (by bytes; the evaluation reads only
# the first 16,384 tokens, about the first tenth of wiki.test.raw). UNSEEN_TEXT, a text no option
# was tuned on, gives a second perplexity column: gains that hold there are not WikiText artefacts.
set -euo pipefail
bin=$1 model=$2 text=$3 out=$4 preset=${5:-fast} unseen=${6:-}
mkdir -p "$out"
half="$out/calibration-second-half.txt"
size=$(stat -c %s "$text")
tail -c $((size / 2)) "$text" >"$half"

eval_ppl() {
    "$bin/shiftadd" eval --model "$1" --text "${2:-$text}" --max-tokens 16384 --ctx 512 --json |
        python3 -c 'import json, sys; print("%.2f" % json.load(sys.stdin)["ppl"])'
}

reference=$(eval_ppl "$model")
echo "reference (fp32, dequantized GGUF): perplexity $reference"
header="| row | options (\`shiftadd-convert MODEL OUT --preset $preset ...\`) | effective bits | bytes | perplexity | / reference | convert s |"
rule="|---|---|---|---|---|---|---|"
if [ -n "$unseen" ]; then
    unseen_reference=$(eval_ppl "$model" "$unseen")
    echo "reference on $unseen: perplexity $unseen_reference"
    header="$header unseen text / reference |"
    rule="$rule---|"
fi
echo "$header"
echo "$rule"

row() {
    local name=$1
    shift
    local bundle="$out/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').sabundle"
    local started=$SECONDS
    "$bin/shiftadd-convert" "$model" "$bundle" --preset "$preset" "$@" >/dev/null 2>"$out/convert.log"
    local seconds=$((SECONDS - started))
    local info
    info=$("$bin/shiftadd" inspect "$bundle" --json |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print("%.3f %d" % (d["effective_bits_per_weight"], d["file_bytes"]))')
    local ppl
    ppl=$(eval_ppl "$bundle")
    local ratio
    ratio=$(python3 -c "print('%.3f' % ($ppl / $reference))")
    local line="| $name | \`$*\` | ${info% *} | ${info#* } | $ppl | $ratio | $seconds |"
    if [ -n "$unseen" ]; then
        line="$line $(python3 -c "print('%.3f' % ($(eval_ppl "$bundle" "$unseen") / $unseen_reference))") |"
    fi
    echo "$line"
    rm -f "$bundle"
}

# Layer-wise rows first (no distillation), then what the end-to-end distillation and the wider
# self-calibration add.
no_feedback=(--rotate none --objective weight --distil-steps 0)
row "round to nearest, int3 (min-max grid)" --bits 3 "${no_feedback[@]}" --fits grid --refinement-rounds 0
row "round to nearest, int4 (min-max grid)" --bits 4 "${no_feedback[@]}" --fits grid --refinement-rounds 0
row "BCQ, starts only (greedy, grid, plane by plane)" --bits 3 "${no_feedback[@]}" --fits bcq --refinement-rounds 0
row "+ alternating refinement (weight objective)" --bits 3 "${no_feedback[@]}" --fits bcq
row "+ output objective (error feedback)" --bits 3 --rotate none --fits bcq --distil-steps 0
row "+ Hadamard rotation" --bits 3 --fits bcq --distil-steps 0
row "+ offset and range-grid fits (layer-wise)" --bits 3 --distil-steps 0
row "+ distillation of the scales (defaults)" --bits 3
row "+ chat-format openings, temperatures 0.8/1/1.2" --bits 3 --self-chat 0.5 --self-temperatures 0.8,1,1.2
row "4 bits (defaults)" --bits 4
row "2 bits (defaults)" --bits 2
row "measured allocation, 2.2 stored bits" --avg-bits 2.2
row "3 bits, text calibration (second half of the file)" --bits 3 --calibration "$half"

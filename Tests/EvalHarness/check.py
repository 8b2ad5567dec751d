"""lm-evaluation-harness against `shiftadd serve`: its `local-completions` model scores the
multiple-choice task in sequences.jsonl through /v1/completions (echo + logprobs on token-id
prompts, tokenized through the server's /tokenize and /tokenizer_info), and every log-likelihood
it gets must equal the one `shiftadd score` computes on the same bundle directly (to 1e-3), with
accuracy far above chance.

Usage: check.py SHIFTADD_BIN MODEL [WORK_DIR]
"""
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
TASK = "shiftadd_sequences"
TOLERANCE = 1e-3
MIN_ACCURACY = 0.8  # chance is 0.25


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base, server, log):
    for _ in range(1200):
        if server.poll() is not None:
            sys.exit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit("the server did not become ready")


def write_task(directory):
    # data_files needs the absolute path: the harness resolves it from its own working directory.
    (directory / f"{TASK}.yaml").write_text(f"""task: {TASK}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {HERE / "sequences.jsonl"}
output_type: multiple_choice
test_split: test
doc_to_text: "{{{{context}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""")


def main():
    binary, model = sys.argv[1], sys.argv[2]
    work = pathlib.Path(sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="eval-harness-"))
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen([binary, "serve", "--model", model, "--port", str(port), "--threads", "2"],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(base, server, log)
        bundle = re.findall(r' INFO ready model="?([^" ]*\.sabundle)"? ', log.read_text())[-1]
        with urllib.request.urlopen(base + "/v1/models") as r:
            model_id = json.load(r)["data"][0]["id"]
        tasks = work / "tasks"
        tasks.mkdir(exist_ok=True)
        write_task(tasks)
        results = work / "results"
        env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        subprocess.run([sys.executable, "-m", "lm_eval", "run", "--model", "local-completions", "--model_args",
                        f"base_url={base}/v1/completions,model={model_id},tokenizer_backend=remote,"
                        "tokenized_requests=True,num_concurrent=1,max_retries=1",
                        "--tasks", TASK, "--include_path", str(tasks), "--output_path", str(results), "--log_samples"],
                       check=True, env=env, cwd=work)
    finally:
        server.terminate()
        server.wait()

    samples = [json.loads(line) for path in results.rglob(f"samples_{TASK}_*.jsonl") for line in open(path)]
    result_file = next(results.rglob("results_*.json"))
    accuracy = json.loads(result_file.read_text())["results"][TASK]["acc,none"]
    pairs, harness = [], []
    for sample in samples:
        for argument, response in zip(sample["arguments"].values(), sample["resps"]):
            pairs.append({"context": argument["arg_0"], "continuation": argument["arg_1"]})
            harness.append(float(response[0][0]))
    requests = work / "requests.jsonl"
    requests.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    direct = subprocess.run([binary, "score", "--model", bundle, "--requests", str(requests), "--threads", "2"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    direct = [json.loads(line)["logprob"] for line in direct]
    worst = max(abs(a - b) for a, b in zip(harness, direct))
    print(f"{len(samples)} questions, {len(pairs)} log-likelihoods; largest |lm-eval - shiftadd score| = {worst:.2e}; "
          f"accuracy {accuracy:.2f} (chance 0.25)")
    failures = []
    if len(direct) != len(harness) or len(harness) != 4 * len(samples) or not samples:
        failures.append(f"{len(harness)} log-likelihoods from lm-eval, {len(direct)} from shiftadd score")
    if worst > TOLERANCE:
        failures.append(f"log-likelihoods differ by up to {worst}")
    if accuracy < MIN_ACCURACY:
        failures.append(f"accuracy {accuracy} below {MIN_ACCURACY}")
    if failures:
        sys.exit("eval-harness: " + "; ".join(failures))
    print("eval-harness: passed")


if __name__ == "__main__":
    main()

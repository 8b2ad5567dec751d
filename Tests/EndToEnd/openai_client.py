"""End-to-end check of the server with the official openai client: text and chat completions,
plain and streamed, against the real model. Usage: openai_client.py BASE_URL API_KEY MODEL_ID.
Exits non-zero with a message on the first failed expectation."""

import sys

from openai import OpenAI, APIStatusError

base_url, api_key, model_id = sys.argv[1:4]
client = OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)


def expect(condition, message):
    if not condition:
        print(f"FAIL: {message}")
        sys.exit(1)


models = client.models.list()
expect([m.id for m in models.data] == [model_id], f"models: {[m.id for m in models.data]}")

# Greedy chat: the real model knows this one (asked in its own chat format; a bare completion
# prompt says "Paris" or not depending on the conversion of a 3-bit fast-preset bundle).
paris = client.chat.completions.create(model=model_id, max_tokens=12, temperature=0,
                                       messages=[{"role": "user", "content": "What is the capital of France?"}])
expect("Paris" in (paris.choices[0].message.content or ""), f"chat answer {paris.choices[0].message.content!r}")

# Greedy text completion.
c = client.completions.create(model=model_id, prompt="The capital of France is", max_tokens=8, temperature=0)
text = c.choices[0].text
expect(text.strip() != "", f"completion text {text!r}")
expect(c.choices[0].finish_reason in ("stop", "length"), f"finish_reason {c.choices[0].finish_reason}")
expect(c.usage.prompt_tokens > 0 and 0 < c.usage.completion_tokens <= 8, f"usage {c.usage}")

# The same completion streamed: the deltas add up to the non-streamed text.
pieces = []
finish = None
usage = None
for chunk in client.completions.create(model=model_id, prompt="The capital of France is", max_tokens=8, temperature=0,
                                       stream=True, stream_options={"include_usage": True}):
    if chunk.choices:
        pieces.append(chunk.choices[0].text)
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage
expect("".join(pieces) == text, f"streamed {''.join(pieces)!r} != {text!r}")
expect(len([p for p in pieces if p]) >= 2, f"streamed in {len(pieces)} pieces")
expect(finish == c.choices[0].finish_reason, f"streamed finish_reason {finish}")
expect(usage is not None and usage.completion_tokens == c.usage.completion_tokens, f"streamed usage {usage}")

# Chat, plain and streamed, seeded sampling: the same seed gives the same answer both ways.
messages = [{"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Name a primary color."}]
chat = client.chat.completions.create(model=model_id, messages=messages, max_tokens=24, temperature=0.7, seed=7)
answer = chat.choices[0].message.content
expect(chat.choices[0].message.role == "assistant", f"role {chat.choices[0].message.role}")
expect(answer and answer.strip(), f"chat answer {answer!r}")
streamed = []
for chunk in client.chat.completions.create(model=model_id, messages=messages, max_tokens=24, temperature=0.7, seed=7,
                                            stream=True):
    if chunk.choices and chunk.choices[0].delta.content:
        streamed.append(chunk.choices[0].delta.content)
expect("".join(streamed) == answer, f"streamed chat {''.join(streamed)!r} != {answer!r}")

# Log-probabilities of the chosen tokens and alternatives.
lp = client.chat.completions.create(model=model_id, messages=messages, max_tokens=4, temperature=0, logprobs=True,
                                    top_logprobs=3)
content = lp.choices[0].logprobs.content
expect(len(content) == lp.usage.completion_tokens, f"{len(content)} logprobs for {lp.usage.completion_tokens} tokens")
expect(all(len(t.top_logprobs) == 3 and t.logprob <= 0 for t in content), "top_logprobs shape")
expect(all(t.logprob >= t.top_logprobs[-1].logprob for t in content), "greedy token ranks in the top 3")

# Errors come back as OpenAI errors the client understands.
try:
    client.completions.create(model="no-such-model", prompt="x", max_tokens=1)
    expect(False, "unknown model accepted")
except APIStatusError as e:
    expect(e.status_code == 404, f"unknown model status {e.status_code}")
try:
    client.completions.create(model=model_id, prompt="x", max_tokens=1, temperature=5)
    expect(False, "temperature 5 accepted")
except APIStatusError as e:
    expect(e.status_code == 400 and "temperature" in str(e), f"bad temperature: {e.status_code} {e}")

tokenize_url = base_url.rsplit("/v1", 1)[0] + "/tokenize"

# Prompt log-probabilities as lm-evaluation-harness asks for them: token-id prompt, echo, logprobs.
ids = client.post(tokenize_url, cast_to=object, body={"prompt": "The capital of France is", "add_special_tokens": False})["tokens"]
scored = client.completions.create(model=model_id, prompt=[ids], max_tokens=1, temperature=0, logprobs=1, echo=True)
lp = scored.choices[0].logprobs
expect(len(lp.tokens) == len(ids) + 1 and lp.token_logprobs[0] is None and lp.top_logprobs[0] is None,
       f"echo logprobs: {lp.tokens} {lp.token_logprobs}")
expect(all(x <= 0 for x in lp.token_logprobs[1:]), f"prompt logprobs {lp.token_logprobs}")
prompt_only = client.completions.create(model=model_id, prompt=[ids], max_tokens=0, logprobs=1, echo=True)
expect(prompt_only.choices[0].logprobs.token_logprobs == lp.token_logprobs[:-1] and prompt_only.usage.completion_tokens == 0,
       f"max_tokens 0: {prompt_only.choices[0].logprobs.token_logprobs} vs {lp.token_logprobs}")

# n choices: with a seed, choice i is the request alone with seed + i; streamed, chunks carry their index.
many = client.completions.create(model=model_id, prompt="Once upon a time", max_tokens=6, temperature=1, seed=40, n=4)
expect([c.index for c in many.choices] == [0, 1, 2, 3], f"choices {many.choices}")
for i, choice in enumerate(many.choices):
    alone = client.completions.create(model=model_id, prompt="Once upon a time", max_tokens=6, temperature=1, seed=40 + i)
    expect(choice.text == alone.choices[0].text, f"choice {i}: {choice.text!r} != seed {40 + i}: {alone.choices[0].text!r}")
expect(4 <= many.usage.completion_tokens <= 24 and many.usage.prompt_tokens == alone.usage.prompt_tokens,
       f"usage of 4 choices {many.usage}")
texts = {}
for chunk in client.chat.completions.create(model=model_id, messages=messages, max_tokens=5, seed=3, n=2, stream=True):
    for choice in chunk.choices:
        texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
expect(sorted(texts) == [0, 1], f"streamed choices {texts}")

# logit_bias: -100 on the greedy first token keeps it out.
first = client.completions.create(model=model_id, prompt=[ids], max_tokens=1, temperature=0, logprobs=1)
greedy = client.post(tokenize_url, cast_to=object, body={"prompt": first.choices[0].text, "add_special_tokens": False})["tokens"]
biased = client.completions.create(model=model_id, prompt=[ids], max_tokens=1, temperature=0,
                                   logit_bias={str(greedy[0]): -100})
expect(biased.choices[0].text != first.choices[0].text, f"logit_bias ignored: {biased.choices[0].text!r}")

# Fields that would change the answer and are not implemented are refused by name.
for field, value in [("suffix", "x"), ("best_of", 2)]:
    try:
        client.completions.create(model=model_id, prompt="x", max_tokens=1, extra_body={field: value})
        expect(False, f"{field} accepted")
    except APIStatusError as e:
        expect(e.status_code == 400 and e.body["param"] == field, f"{field}: {e.status_code} {e.body}")
for field, value in [("reasoning_effort", "low"), ("verbosity", "low"), ("modalities", ["audio"]),
                     ("prediction", {"type": "content", "content": "x"}), ("web_search_options", {}),
                     ("audio", {"voice": "alloy", "format": "wav"}), ("moderation", {"model": "x"}), ("no_such_field", 1)]:
    try:
        client.chat.completions.create(model=model_id, messages=messages, max_tokens=1, extra_body={field: value})
        expect(False, f"{field} accepted")
    except APIStatusError as e:
        expect(e.status_code == 400 and e.body["param"] == field, f"{field}: {e.status_code} {e.body}")
ok = client.chat.completions.create(model=model_id, messages=messages, max_tokens=1, user="u", store=False,
                                    metadata={"k": "v"}, service_tier="auto")
expect(len(ok.choices) == 1, "meaningless fields refused")

print("openai client: models, completions, chat, streaming, logprobs, prompt logprobs, n, logit_bias, refusals, errors: ok")

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

print("openai client: models, completions, chat, streaming, logprobs, errors: ok")

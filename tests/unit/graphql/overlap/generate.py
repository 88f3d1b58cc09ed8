#!/usr/bin/python3
"""tests/unit/graphql/overlap/generate.py — random documents for the
OverlappingFieldsCanBeMerged conformance cases: fields, aliases, arguments,
inline fragments and named fragments over schema.graphql. Usage:
    generate.py SEED COUNT > docs.jsonl
    node verdicts.js docs.jsonl > verdicts.txt      (graphql-js 16.15, the reference)
then keep a balanced sample as cases.txt ("ok" or "conflict", a tab, the document)."""
import json
import random
import sys

random.seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
T = {
 'I': {'id': None},
 'A': {'id': None, 'child': 'C', 'kids': 'C', 'n': None, 's': None, 'a': 'A', 'f': None},
 'B': {'id': None, 'child': 'C', 'kids': 'C', 'n': None, 's': None, 'b': 'B', 'f': None},
 'C': {'v': None, 's': None, 'c': 'C', 'f': None},
 'Query': {'i': 'I', 'a': 'A', 'b': 'B', 'u': 'U', 'c': 'C'},
 'U': {},
}
POSS = {'I': ['A', 'B'], 'U': ['A', 'B'], 'A': ['A'], 'B': ['B'], 'C': ['C'], 'Query': ['Query']}
ALIASES = ['p', 'q', 'r']
def conds(t):
    c = set(POSS[t])
    if t in ('A', 'B'): c |= {'I', 'U'}
    if t in ('I', 'U'): c |= {'I', 'U'} - {t} | {t}
    return sorted(c)
def sel(t, depth, frags):
    items = []
    for _ in range(random.randint(1, 3)):
        r = random.random()
        fields = list(T[t].items())
        if fields and r < 0.65:
            name, sub = random.choice(fields)
            s = ''
            if random.random() < 0.2: s += random.choice(ALIASES) + ': '
            s += name
            if name == 'f': s += '(x: %d)' % 1 if random.random() < 0.95 else ''
            if sub:
                if depth >= 3: continue
                s += ' ' + sel(sub, depth + 1, frags)
            items.append(s)
        elif (r < 0.85 or not frags) and depth < 4:
            c = random.choice(conds(t))
            items.append('... on %s %s' % (c, sel(c, depth + 1, frags)))
        elif frags:
            ok = [f for f in frags if f[1] in conds(t)]
            if ok:
                items.append('...' + random.choice(ok)[0])
    if not items:
        items = ['__typename']
    return '{ ' + ' '.join(items) + ' }'
out = []
for n in range(int(sys.argv[2]) if len(sys.argv) > 2 else 2000):
    frags = []
    defs = []
    for k in range(random.randint(0, 2)):
        t = random.choice(['A', 'B', 'C', 'I', 'U'])
        body = sel(t, 1, list(frags))
        defs.append('fragment F%d on %s %s' % (k, t, body))
        frags.append(('F%d' % k, t))
    q = sel('Query', 0, frags) + ' ' + ' '.join(defs)
    out.append(q)
for q in out: print(json.dumps(q))

// Evaluates rubric expressions with Adobe's json-formula, the language the C2PA asset rubrics
// are written in. Python (tests/test_conformance.py) reads the YAML and decides pass or fail;
// this script only computes each statement's value, so the judging stays in one place.
//
// stdin:  {"variables": {...}, "expressions": {"_name": "body", ...},
//          "statements": [{"id": ..., "expression": ...}], "documents": {"name": crJSON}}
// stdout: {"name": {"statement id": {"value": any} | {"error": "message"}}}
import { readFileSync } from 'node:fs';
import JsonFormula, { dataTypes } from '@adobe/json-formula';

const request = JSON.parse(readFileSync(0, 'utf8'));
const variables = { ...request.variables };
const globalNames = new Set(Object.keys(variables));
globalNames.add('$args');
for (const body of Object.values(request.expressions)) {
  for (const name of String(body).match(/\$[A-Za-z0-9_]+/g) || []) globalNames.add(name);
}
for (const statement of request.statements) {
  for (const name of String(statement.expression).match(/\$[A-Za-z0-9_]+/g) || []) {
    globalNames.add(name);
  }
}
const allowed = [...globalNames];
const compiler = new JsonFormula();

// A named expression is called like a function. The rubrics' own evaluator passes every call
// argument in the global array $args and keeps the caller's data as @; a call with no argument
// leaves $args as the caller had it (the rubric bodies rely on both).
function namedExpression(name, body) {
  let ast = null;
  return {
    _func: (args, data, interpreter) => {
      ast = ast || compiler.compile(String(body).trim(), allowed);
      if (args.length === 0) return interpreter.search(ast, data);
      const saved = Object.prototype.hasOwnProperty.call(interpreter.globals, '$args')
        ? interpreter.globals.$args
        : undefined;
      interpreter.globals.$args = args;
      try {
        return interpreter.search(ast, data);
      } finally {
        if (saved === undefined) delete interpreter.globals.$args;
        else interpreter.globals.$args = saved;
      }
    },
    _signature: [{ types: [dataTypes.TYPE_ANY], optional: true, variadic: true }],
  };
}

const functions = {};
for (const [name, body] of Object.entries(request.expressions)) {
  functions[name] = namedExpression(name, body);
}
const engine = new JsonFormula(functions);

const out = {};
for (const [document, data] of Object.entries(request.documents)) {
  const results = {};
  for (const statement of request.statements) {
    try {
      const value = engine.search(String(statement.expression).trim(), data, { ...variables });
      results[statement.id] = { value: value === undefined ? null : value };
    } catch (e) {
      results[statement.id] = { error: String(e && e.message ? e.message : e) };
    }
  }
  out[document] = results;
}
process.stdout.write(JSON.stringify(out));

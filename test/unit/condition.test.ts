import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsep from 'jsep';
import { compileCondition, ConditionError, evaluateMeasurement } from '../../domain/analysis/condition';

function check(expression: string, result: unknown, args?: Record<string, unknown>): boolean {
  return compileCondition(expression).evaluate({ result, args });
}

/** Asserts that evaluating throws a ConditionError whose message matches `pattern`. */
function evalError(expression: string, result: unknown, pattern: RegExp): void {
  const compiled = compileCondition(expression);
  assert.throws(
    () => compiled.evaluate({ result }),
    (err: unknown) => err instanceof ConditionError && err.stage === 'evaluate' && err.expression === expression && pattern.test(err.detail),
    `${expression} should fail to evaluate with ${pattern}`,
  );
}

/** Asserts that compiling throws a ConditionError whose message matches `pattern`. */
function parseError(expression: string, pattern: RegExp): void {
  assert.throws(
    () => compileCondition(expression),
    (err: unknown) => err instanceof ConditionError && err.stage === 'parse' && pattern.test(err.detail),
    `${expression} should fail to parse with ${pattern}`,
  );
}

test('the conditions of examples/rollouts, as written there', () => {
  // analysis-http-health-check.yaml (web provider; the jsonPath picks a string here)
  assert.deepEqual(evaluateMeasurement('200', 'result == "200"', 'result != "200"'), { phase: 'Successful' });
  assert.deepEqual(evaluateMeasurement('503', 'result == "200"', 'result != "200"'), { phase: 'Failed' });
  // analysis-prometheus-metrics.yaml: error rate, p99 latency (ms), CPU (%)
  assert.deepEqual(evaluateMeasurement(0.01, 'result < 0.05'), { phase: 'Successful' });
  assert.deepEqual(evaluateMeasurement(0.05, 'result < 0.05'), { phase: 'Failed' });
  assert.deepEqual(evaluateMeasurement(120, 'result < 500'), { phase: 'Successful' });
  assert.deepEqual(evaluateMeasurement(800, 'result < 500'), { phase: 'Failed' });
  assert.deepEqual(evaluateMeasurement(42.5, 'result < 80'), { phase: 'Successful' });
  assert.deepEqual(evaluateMeasurement(99, 'result < 80'), { phase: 'Failed' });
});

test('a web result that is a JSON number compared with a string is an Error, as Argo type-checks against the result', () => {
  const outcome = evaluateMeasurement(200, 'result == "200"', 'result != "200"');
  assert.equal(outcome.phase, 'Error');
  assert.match(
    outcome.phase === 'Error' ? outcome.message : '',
    /successCondition `result == "200"`: invalid operation: == \(mismatched types number and string\)/,
  );
  // A field of a map has no static type, so there a mismatch is simply unequal.
  assert.equal(check('result.code == "200"', { code: 200 }), false);
});

test('outcome rules match Argo EvaluateResult', () => {
  assert.deepEqual(evaluateMeasurement(1), { phase: 'Successful' }, 'no conditions');
  assert.deepEqual(evaluateMeasurement(1, '', ''), { phase: 'Successful' }, 'empty strings are no conditions');
  assert.deepEqual(evaluateMeasurement(1, 'result == 1'), { phase: 'Successful' });
  assert.deepEqual(evaluateMeasurement(1, 'result == 2'), { phase: 'Failed' }, 'only success, false');
  assert.deepEqual(evaluateMeasurement(1, undefined, 'result == 2'), { phase: 'Successful' }, 'only failure, false');
  assert.deepEqual(evaluateMeasurement(1, '', 'result == 1'), { phase: 'Failed' }, 'only failure, true');
  assert.deepEqual(evaluateMeasurement(1, 'true', 'true'), { phase: 'Failed' }, 'both true: failure wins');
  assert.deepEqual(evaluateMeasurement(1, 'true', 'false'), { phase: 'Successful' });
  assert.deepEqual(evaluateMeasurement(1, 'false', 'true'), { phase: 'Failed' });
  assert.deepEqual(evaluateMeasurement(1, 'false', 'false'), { phase: 'Inconclusive' });
});

test('any error makes the measurement Error, with a message naming the condition', () => {
  const success = evaluateMeasurement(true, 'a == true', 'true');
  assert.deepEqual(success, { phase: 'Error', message: 'could not evaluate successCondition `a == true`: unknown name a' });
  const failure = evaluateMeasurement(true, 'true', 'a == true');
  assert.deepEqual(failure, { phase: 'Error', message: 'could not evaluate failureCondition `a == true`: unknown name a' });
  const parse = evaluateMeasurement(1, 'result <');
  assert.deepEqual(parse, { phase: 'Error', message: 'cannot parse successCondition `result <`: Expected expression after < at character 8' });
  const notBool = evaluateMeasurement(true, '1');
  assert.deepEqual(notBool, { phase: 'Error', message: 'could not evaluate successCondition `1`: expected bool, but got number' });
});

test('an Error on an empty or nil result says no data came back', () => {
  for (const result of [null, undefined, []]) {
    const outcome = evaluateMeasurement(result, 'result[0] > 1');
    assert.equal(outcome.phase, 'Error');
    assert.match(outcome.phase === 'Error' ? outcome.message : '', /no data was returned by the metric provider/);
  }
  const withData = evaluateMeasurement([1], 'result[5] > 1');
  assert.doesNotMatch(withData.phase === 'Error' ? withData.message : 'no data', /no data/);
});

test('a parse error is a ConditionError carrying the expression and jsep-style message', () => {
  try {
    compileCondition('result <', 'successCondition');
    assert.fail('expected a ConditionError');
  } catch (err) {
    assert.ok(err instanceof ConditionError);
    assert.equal(err.name, 'ConditionError');
    assert.equal(err.expression, 'result <');
    assert.equal(err.stage, 'parse');
    assert.equal(err.detail, 'Expected expression after < at character 8');
    assert.equal(err.message, 'cannot parse successCondition `result <`: Expected expression after < at character 8');
  }
});

test('syntax errors', () => {
  parseError('', /Empty expression/);
  parseError('(result > 1', /Expected \)/);
  parseError('result > 1)', /Unexpected "\)"/);
  parseError('result >> 1', /Expected expression after >/);
  parseError('result = 1', /Unexpected "="/);
  parseError('"abc', /Unclosed quote/);
  parseError('"\\q" == result', /Invalid escape sequence \\q/);
  parseError('# > 1', /only be used inside a predicate/);
  parseError('.status == "ok"', /only be used inside a predicate/);
  parseError('{a: 1}', /Map literals are not supported/);
  parseError('{# > 1}', /predicate is only allowed as the second argument/);
  parseError('len({# > 1}) > 0', /predicate is only allowed/);
  parseError('result > 1, true', /Unexpected ","/);
  parseError('(1, 2)', /Expected \)/);
  parseError('[1,,2]', /Unexpected ","/);
  parseError('result not 1', /Unexpected "not"/);
  parseError('result ?: 1', /\?: operator is not supported/);
  parseError('result | len()', /Unexpected "\|"/);
  parseError('result ?? 1 > 0', /cannot be mixed/);
  parseError('result matches "("', /invalid regular expression/);
  parseError('all(result, {#acc > 1})', /Unknown pointer #acc/);
  parseError('/* open', /Unclosed comment/);
  // Deep nesting overflows the recursive parser: still a ConditionError, and jsep is restored.
  parseError('('.repeat(100_000) + 'true' + ')'.repeat(100_000), /nested too deeply/);
  assert.equal(check('(((result)))', true), true);
});

test('Prometheus scalars and NaN', () => {
  assert.equal(check('result < 0.05', 0.01), true);
  // Prometheus returns NaN for 0/0 rates: every comparison with NaN is false, as in Go.
  assert.equal(check('result < 0.05', NaN), false);
  assert.equal(check('result >= 0.05', NaN), false);
  assert.equal(check('result == result', NaN), false);
  assert.equal(check('result != result', NaN), true);
  assert.equal(check('isNaN(result)', NaN), true);
  assert.equal(check('isNaN(result)', 0.5), false);
  assert.equal(check('isNaN(result) || result < 0.05', NaN), true);
  assert.deepEqual(evaluateMeasurement(NaN, 'result < 0.05'), { phase: 'Failed' });
  assert.deepEqual(evaluateMeasurement(NaN, 'result <= 0.05', 'result > 0.05'), { phase: 'Inconclusive' });
  assert.equal(check('isInf(result)', Infinity), true);
  assert.equal(check('isInf(result)', -Infinity), true);
  assert.equal(check('isInf(result)', 1e308), false);
  assert.equal(check('isInf(result / 0)', 1), true, 'division is float division');
  assert.equal(check('isNaN(result / 0)', 0), true);
  evalError('isNaN(result)', 'x', /cannot use string as argument/);
  evalError('isInf(result.x)', { x: 'y' }, /invalid argument for isInf \(type string\)/);
});

test('Prometheus vectors', () => {
  assert.equal(check('result[0] >= 0.9', [0.95, 0.1]), true);
  assert.equal(check('result[0] >= 0.9', [0.85]), false);
  assert.equal(check('result[1] < 0.2', [0.95, 0.1]), true);
  assert.equal(check('result[-1] == 3', [1, 2, 3]), true, 'negative indexes count from the end');
  evalError('result[3] == 3', [1, 2, 3], /index out of range: 3 \(array length is 3\)/);
  evalError('result[0.5] == 1', [1], /cannot index an array with 0.5/);
  assert.equal(check('len(result) == 0', []), true);
  assert.equal(check('len(result) == 0', [1]), false);
  assert.equal(check('all(result, {# > 0.5})', [0.6, 0.9]), true);
  assert.equal(check('all(result, {# > 0.5})', [0.6, 0.4]), false);
  assert.equal(check('all(result, {# > 0.5})', []), true, 'all of nothing');
  assert.equal(check('any(result, {# < 1})', [3, 0.5]), true);
  assert.equal(check('any(result, {# < 1})', [3, 2]), false);
  assert.equal(check('any(result, {# < 1})', []), false);
  assert.equal(check('none(result, {# > 10})', [1, 2]), true);
  assert.equal(check('none(result, {# > 1})', [1, 2]), false);
  assert.equal(check('one(result, {# > 1})', [1, 2]), true);
  assert.equal(check('one(result, {# > 0})', [1, 2]), false);
  assert.equal(check('len(filter(result, {# > 1})) == 2', [1, 2, 3]), true);
  assert.equal(check('filter(result, {# > 1}) == [2, 3]', [1, 2, 3]), true);
  assert.equal(check('map(result, {# * 2}) == [2, 4]', [1, 2]), true);
  assert.equal(check('count(result, {# > 1}) == 2', [1, 2, 3]), true);
  assert.equal(check('count(result) == 1', [true, false]), true, 'count without a predicate counts true elements');
  assert.equal(check('sum(result) == 6', [1, 2, 3]), true);
  assert.equal(check('sum(result, {# * 2}) == 12', [1, 2, 3]), true);
  assert.equal(check('find(result, {# > 1}) == 2', [1, 2, 3]), true);
  assert.equal(check('find(result, {# > 5}) == nil', [1, 2, 3]), true);
  assert.equal(check('findIndex(result, {# > 1}) == 1', [1, 2, 3]), true);
  assert.equal(check('findIndex(result, {# > 5}) == -1', [1, 2, 3]), true);
  assert.equal(check('findLast(result, {# > 1}) == 3', [1, 2, 3]), true);
  assert.equal(check('findLastIndex(result, {# < 3}) == 1', [1, 2, 3]), true);
  // expr accepts a predicate without braces, and #index is the element's position.
  assert.equal(check('all(result, # > 0)', [1, 2]), true);
  assert.equal(check('all(result, # > 0)', [1, -2]), false);
  assert.equal(check('all(result, {#index < 2})', [5, 6]), true);
  assert.equal(check('all(result, {#index < 1})', [5, 6]), false);
  // Argo's own test: a vector nested in a web response.
  const apdex = { service_apdex: { label: null, values: { values: [2, 2] } } };
  assert.equal(check('all(result.service_apdex.values.values, {# > 1})', apdex), true);
  evalError('all(result, {#})', [1], /predicate of all\(\) must return bool, got number/);
  evalError('all(result, {# > 1})', null, /all\(\) needs an array, got nil/);
  evalError('sum(result)', ['a'], /mismatched types number and string/);
});

test('nested predicates: # is the innermost element', () => {
  const groups = [{ pods: [1, 2] }, { pods: [3] }];
  assert.equal(check('all(result, {any(.pods, {# > 2})})', groups), false);
  assert.equal(check('any(result, {any(.pods, {# > 2})})', groups), true);
  assert.equal(check('all(result, {all(#.pods, {# > 0})})', groups), true);
});

test('Argo CD notification-style predicates with .field', () => {
  const app = {
    status: {
      resources: [
        { kind: 'Service', status: 'OutOfSync' },
        { kind: 'Deployment', status: 'Synced' },
      ],
      operationState: { phase: 'Succeeded' },
    },
  };
  assert.equal(check("any(result.status.resources, {.kind == 'Deployment' and .status == 'Synced'})", app), true);
  assert.equal(check("any(result.status.resources, {.kind == 'Deployment' and .status == 'OutOfSync'})", app), false);
  assert.equal(check("all(result.status.resources, {#.status == 'Synced'})", app), false);
  assert.equal(check("result.status.operationState.phase in ['Succeeded']", app), true);
  assert.equal(check("result.status.operationState.phase in ['Failed', 'Error']", app), false);
});

test('in and not in', () => {
  assert.equal(check("result in ['a', 'b']", 'b'), true);
  assert.equal(check("result in ['a', 'b']", 'c'), false);
  assert.equal(check("result not in ['a', 'b']", 'c'), true);
  assert.equal(check("result not in ['a', 'b']", 'a'), false);
  assert.equal(check('2 in result', [2, 2]), true, "Argo's TestEvaluateInOperator");
  assert.equal(check('3 in result', [2, 2]), false);
  assert.equal(check("'a' in result", { a: 1 }), true, 'in on a map tests its keys');
  assert.equal(check("'b' in result", { a: 1 }), false);
  assert.equal(check("'constructor' in result", {}), false, 'only own keys');
  assert.equal(check('[1, 2] in result', [[1, 2], [3]]), true, 'arrays are equal element-wise');
  assert.equal(check("'a' in result.missing", {}), false, 'in nil is false');
  evalError("result in 'abc'", 'a', /operator "in" not defined on string/);
  evalError('1 in result', 5, /operator "in" not defined on number/);
});

test('arithmetic and precedence', () => {
  assert.equal(check('result * 100 < 5', 0.04), true);
  assert.equal(check('result + 1 == 3', 2), true);
  assert.equal(check('result - 1 == 1', 2), true);
  assert.equal(check('7 / 2 == 3.5', null), true, 'division is never integer division');
  assert.equal(check('7 % 3 == 1', null), true);
  assert.equal(check('-7 % 3 == -1', null), true, 'Go truncates toward zero');
  assert.equal(check('2 ** 10 == 1024', null), true);
  assert.equal(check('2 ^ 3 == 8', null), true);
  assert.equal(check('2 ** 3 ** 2 == 512', null), true, '** is right-associative');
  assert.equal(check('-2 ** 2 == -4', null), true, 'unary minus binds looser than **, as in expr');
  assert.equal(check('1 + 2 * 3 == 7', null), true);
  assert.equal(check('(1 + 2) * 3 == 9', null), true);
  assert.equal(check('10 - 2 - 3 == 5', null), true, 'left-associative');
  assert.equal(check('-result == 5', -5), true);
  assert.equal(check('+result == 5', 5), true);
  assert.equal(check('1e3 == 1000 and .5 == 0.5', null), true);
  assert.equal(check("'a' + 'b' == 'ab'", null), true);
  evalError('result % 2 == 0', 2.5, /% needs integers/);
  evalError('result % 0 == 0', 2, /integer divide by zero/);
  evalError('result + 1 > 0', 'x', /invalid operation: \+ \(mismatched types string and number\)/);
  evalError('result.x * 2 > 0', { x: 'a' }, /invalid operation: \* \(mismatched types string and number\)/);
});

test('boolean operators in both spellings', () => {
  assert.equal(check('result > 1 && result < 3', 2), true);
  assert.equal(check('result > 1 and result < 3', 5), false);
  assert.equal(check('result < 1 || result > 3', 5), true);
  assert.equal(check('result < 1 or result > 3', 2), false);
  assert.equal(check('!(result > 1)', 0), true);
  assert.equal(check('not (result > 1)', 2), false);
  assert.equal(check('not result', false), true);
  assert.equal(check('!!result', true), true);
  // and binds tighter than or.
  assert.equal(check('true or true and false', null), true);
  assert.equal(check('(true or true) and false', null), false);
  // Short-circuit: the right side is not evaluated (it would fail on nil).
  assert.equal(check('result == nil || result.x > 1', null), true);
  assert.equal(check('result != nil && result.x > 1', null), false);
  evalError('result.x && true', { x: 1 }, /operands must be bool/);
  evalError('true && result.x', { x: 1 }, /operands must be bool/);
  evalError('!result', 1, /invalid operation: not \(mismatched type number\)/);
  evalError('not result.x', { x: 'a' }, /invalid operation: not string/);
});

test('comparison chains, ternary and ??', () => {
  assert.equal(check('1 < result < 3', 2), true, 'expr reads a < b < c as a < b && b < c');
  assert.equal(check('1 < result < 3', 3), false);
  assert.equal(check('0 <= result <= 1', 0), true);
  assert.equal(check('result > 1 ? result < 10 : false', 5), true);
  assert.equal(check('result > 1 ? result < 10 : false', 0), false);
  assert.equal(check("result == 'a' ? true : result == 'b' ? false : true", 'b'), false);
  assert.equal(check('(result.x ?? 0) < 5', {}), true);
  assert.equal(check('(result.x ?? 0) < 5', { x: 7 }), false);
  assert.equal(check('result.x ?? result.y ?? true', {}), true);
  evalError('result ? true : false', 1, /non-bool expression \(type number\) used as condition/);
  evalError('result.x ? true : false', { x: 1 }, /non-bool number used as condition/);
});

test('Argo functions: isNil, default, asInt, asFloat', () => {
  assert.equal(check('isNil(result)', null), true);
  assert.equal(check('isNil(result)', undefined), true);
  assert.equal(check('isNil(result)', 0), false);
  assert.equal(check('isNil(result)', []), false, 'an empty vector is not nil');
  // Argo's isNil and default ignore their argument and look at result itself.
  assert.equal(check('isNil(1)', null), true);
  assert.equal(check('default(result, 0) < 0.05', null), true);
  assert.equal(check('default(result, 0) < 0.05', 0.5), false);
  assert.equal(check('default(result, 0) == 0', 0), true, 'zero is not nil');
  assert.equal(check('asInt("3") == 3', null), true);
  assert.equal(check('asInt("-3") == -3', null), true);
  assert.equal(check('asInt(result) == 1', '1'), true);
  assert.equal(check('asInt(result) == 1', 1.123), true, 'a float is truncated');
  assert.equal(check('asInt(result) == -1', -1.9), true);
  evalError('asInt(result) == 1', '1.1', /asInt: cannot parse "1.1" as an integer/);
  // strconv.ParseInt's int64 range, exactly, though a double cannot tell 2^63 - 1 from 2^63.
  assert.equal(check('asInt(result) > 0', '9223372036854775807'), true);
  evalError('asInt(result) > 0', '9223372036854775808', /asInt: "9223372036854775808" is out of range/);
  assert.equal(check('asInt(result) < 0', '-9223372036854775808'), true);
  evalError('asInt(result) < 0', '-9223372036854775809', /out of range/);
  evalError('asInt(result) == 1', true, /asInt\(\) not supported on bool true/);
  assert.equal(check('asFloat("0.5") == 0.5', null), true);
  assert.equal(check('asFloat(result) >= 1.1', '1.1'), true);
  assert.equal(check('asFloat(result) == 1', 1), true);
  assert.equal(check('asFloat(result) == 1000', '1e3'), true);
  assert.equal(check('isInf(asFloat("-Inf")) and isNaN(asFloat("NaN"))', null), true);
  evalError('asFloat(result) == 1.1', 'NotANum', /cannot parse "NotANum" as a number/);
  evalError('asFloat(result) == "1.1"', '1.1', /mismatched types number and string/);
});

test('expr builtins', () => {
  assert.equal(check('len(result) == 2', '😀a'), true, 'len of a string counts characters, not UTF-16 units');
  assert.equal(check('len(result) == 2', { a: 1, b: 2 }), true);
  evalError('len(result) == 1', 1, /invalid argument for len \(type number\)/);
  assert.equal(check('abs(result) == 2', -2), true);
  assert.equal(check('ceil(result) == 2 and floor(result) == 1', 1.5), true);
  assert.equal(check('round(result) == 3', 2.5), true);
  assert.equal(check('round(result) == -3', -2.5), true, 'halves round away from zero, as in Go');
  assert.equal(check('int(result) == 2', 2.9), true);
  assert.equal(check('int(result) == 42', '42'), true);
  assert.equal(check('float(result) == 0.25', '0.25'), true);
  evalError('int(result) == 1', '1.5', /invalid operation: int\("1.5"\)/);
  assert.equal(check('max(result) == 3 and min(result) == 1', [2, 3, 1]), true);
  assert.equal(check('max(1, 5, 2) == 5 and min([4, [2, 8]]) == 2', null), true);
  assert.equal(check('max(result) == nil', []), true);
  assert.equal(check('mean(result) == 2 and median(result) == 1.5', [1, 1, 2, 4]), true);
  assert.equal(check('mean(result) == 0', []), true);
  assert.equal(check('first(result) == 1 and last(result) == 3', [1, 2, 3]), true);
  assert.equal(check('first(result) == nil', []), true);
  assert.equal(check("lower(result) == 'ok' and upper(result) == 'OK'", 'Ok'), true);
  assert.equal(check("trim(result) == 'ok'", '  ok\n'), true);
  assert.equal(check("trim(result, 'x') == 'ok'", 'xxokx'), true);
  evalError('lower(result) == "a"', 1, /invalid argument for lower \(type number\)/);
});

test('strings', () => {
  assert.equal(check('result == "ok"', 'ok'), true);
  assert.equal(check("result == 'ok'", 'OK'), false);
  assert.equal(check('result < "b"', 'abc'), true, 'strings compare lexically');
  assert.equal(check('result > "b"', 'abc'), false);
  assert.equal(check('"a\\tb" == result', 'a\tb'), true, 'Go escapes');
  assert.equal(check("'\\u00e9\\x41\\101' == result", 'éAA'), true, 'unicode, hex and octal escapes');
  assert.equal(check('`a\\tb` == result', 'a\\tb'), true, 'backquoted strings are raw');
  assert.equal(check('result contains "rror"', 'Error: x'), true);
  assert.equal(check('result startsWith "Err"', 'Error: x'), true);
  assert.equal(check('result endsWith "x"', 'Error: x'), true);
  assert.equal(check('result not contains "rror"', 'fine'), true);
  assert.equal(check('result matches "^[0-9]+$"', '200'), true);
  assert.equal(check('result matches "^[0-9]+$"', '2xx'), false);
  assert.equal(check('result matches "(?i)^ok"', 'OK then'), true, 'a leading RE2 flag group');
  assert.equal(check('result matches args.pattern', 'abc', { pattern: 'b' }), true);
  evalError('result matches args.pattern', 'abc', /unknown name args/);
  assert.throws(() => compileCondition('result matches args.pattern').evaluate({ result: 'a', args: { pattern: '(' } }), /invalid regular expression/);
  evalError('result contains 1', 'abc', /mismatched types string and number/);
  evalError('result < 1', 'abc', /invalid operation: < \(mismatched types string and number\)/);
  evalError('result.x < 1', { x: 'abc' }, /invalid operation: < \(mismatched types string and number\)/);
});

test('member access on objects', () => {
  assert.equal(check('result.status == "ok"', { status: 'ok' }), true);
  assert.equal(check('result.status == "ok"', { status: 'down' }), false);
  assert.equal(check('result.a.b[1].c == 2', { a: { b: [{ c: 1 }, { c: 2 }] } }), true);
  assert.equal(check("result['content-type'] == 'json'", { 'content-type': 'json' }), true);
  assert.equal(check('result.missing == nil', {}), true, 'a missing key is nil');
  assert.equal(check('result.constructor == nil and result.__proto__ == nil', {}), true, 'prototype properties are not reachable');
  assert.equal(check('result?.a.b == nil', null), true, '?. ends the chain with nil');
  assert.equal(check('result.a?.b == nil', { a: null }), true);
  evalError('result.a.b == nil', null, /cannot fetch "a" from nil/);
  evalError('result.x == 1', 'str', /cannot fetch "x" from string/);
  evalError('result[0] == 1', { a: 1 }, /cannot use 0 as a key of a map/);
  evalError("result.Name() == 'hi'", true, /not a function/);
  assert.equal(check('args.threshold > result', 1, { threshold: 2 }), true);
  assert.equal(check('result == [1, "a", true, nil]', [1, 'a', true, null]), true);
});

test('evaluation errors', () => {
  evalError('foo > 1', 1, /^unknown name foo$/);
  // expr rejects unknown names before running, so short-circuiting does not hide them.
  evalError('false && foo', 1, /^unknown name foo$/);
  evalError('nosuch(result)', 1, /^unknown func nosuch$/);
  evalError('result(1)', 1, /^result is not a function$/);
  evalError('len > 1', 1, /len is a function/);
  evalError('len(result, result) > 1', [1], /invalid number of arguments for len \(expected 1, got 2\)/);
  evalError('all(result) ', [1], /invalid number of arguments for all \(expected 2, got 1\)/);
  evalError('result', 1, /^expected bool, but got number$/);
  evalError('result.x', { x: 'yes' }, /^expected bool, but got string$/);
  evalError('this == nil', 1, /unknown name this/);
  evalError('null == nil', 1, /unknown name null/);
});

test('compile once, evaluate many times', () => {
  const compiled = compileCondition('result.errors / result.total < 0.05');
  assert.equal(compiled.expression, 'result.errors / result.total < 0.05');
  assert.equal(compiled.evaluate({ result: { errors: 1, total: 100 } }), true);
  assert.equal(compiled.evaluate({ result: { errors: 10, total: 100 } }), false);
  assert.equal(compiled.evaluate({ result: { errors: 0, total: 0 } }), false, '0/0 is NaN');
  // The type check follows each result, as Argo compiles against each one.
  const typed = compileCondition('result == "200"');
  assert.equal(typed.evaluate({ result: '200' }), true);
  assert.throws(() => typed.evaluate({ result: 200 }), ConditionError);
});

test('comments and whitespace', () => {
  assert.equal(check('result > 1 // must exceed one', 2), true);
  assert.equal(check('result /* the value */ > 1', 0), false);
  assert.equal(check('result\n  > 1\n  and result < 3', 2), true);
  assert.equal(check('result / 2 == 1', 2), true, 'a single / is still division');
});

test("jsep's global configuration is neither used nor changed", () => {
  // Someone else's configuration does not leak into our grammar...
  jsep.addBinaryOp('and', 1);
  jsep.addUnaryOp('#');
  try {
    assert.equal(check('result > 1 and result < 3', 2), true);
    assert.equal(check('all(result, {# > 0})', [1]), true);
    assert.equal((jsep('a and b') as jsep.BinaryExpression).operator, 'and', 'their operator survives our parse');
  } finally {
    jsep.removeBinaryOp('and');
    jsep.removeUnaryOp('#');
  }
  // ...and ours does not leak into theirs: plain jsep still parses JavaScript.
  compileCondition('result not in [1] ? true : false');
  assert.equal((jsep('a === b') as jsep.BinaryExpression).operator, '===');
  assert.equal(jsep('a ? b : c').type, 'ConditionalExpression');
  assert.equal(jsep('this').type, 'ThisExpression');
  assert.equal((jsep('null') as jsep.Literal).value, null);
  assert.equal(jsep('a in b').type, 'Compound', 'no `in` operator outside our parse');
  assert.throws(() => jsep('{a}'));
});

test('the module runs no code from strings and stays deterministic', () => {
  // Workflow code imports it: no eval, Function, clocks, randomness, or other modules than jsep.
  const source = readFileSync(path.join(__dirname, '../../domain/analysis/condition.js'), 'utf8');
  assert.doesNotMatch(source, /\beval\s*\(|\bFunction\s*\(|\bDate\b|Math\.random|\bprocess\./);
  const required = [...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  assert.deepEqual(required, ['jsep']);
});

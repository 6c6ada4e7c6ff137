%% A suite of our own in common_test's form, for the test of run-suite
%% (tests/external.rs): groups, init_per_suite and init_per_testcase, the
%% ct and test_server stand-ins, a skipped case, a case left out by the
%% skip file, and one that fails on both erl and vm.
-module(selftest_SUITE).
-include_lib("common_test/include/ct.hrl").
-export([all/0, groups/0, init_per_suite/1, init_per_testcase/2, end_per_testcase/2,
         config/1, arithmetic/1, exceptions/1, maps/1, skipped/1, left_out/1,
         fails/1, messages/1]).

all() -> [config, {group, basics}, skipped, left_out, fails].

groups() -> [{basics, [], [arithmetic, exceptions, {group, more}]},
             {more, [parallel], [maps, messages]}].

init_per_suite(Config) -> [{suite_key, 42} | Config].

init_per_testcase(Case, Config) -> [{testcase, Case} | Config].

end_per_testcase(_Case, _Config) -> ok.

config(Config) ->
    42 = ?config(suite_key, Config),
    config = ?config(testcase, Config),
    ok.

arithmetic(_Config) ->
    ?line 6 = 1 + id(5),
    {'EXIT', {badarith, _}} = (catch 1 / id(0)),
    ok.

exceptions(_Config) ->
    try x = id(y) of
        _ -> ct:fail(no_badmatch)
    catch error:{badmatch, y} -> ok
    end.

maps(_Config) ->
    M = #{a => 1},
    #{a := 1, b := 2} = M#{b => 2},
    case catch M#{c := 3} of
        {'EXIT', {{badkey, c}, _}} -> ok;
        Other -> ?t:fail({unexpected, Other})
    end.

messages(_Config) ->
    self() ! one,
    self() ! two,
    [one, two] = ?t:messages_get(),
    ok.

skipped(_Config) -> {skip, "not here"}.

left_out(_Config) -> this_case_is_not_compiled(at, all).

fails(_Config) -> ct:fail("expected ~p", [failure]).

id(X) -> X.

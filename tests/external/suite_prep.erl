%% Prepares a common_test suite for tests/external/run-suite: expands the
%% preprocessor with epp (the suite's -include_lib of ct.hrl or
%% test_server.hrl becomes the few macros our stand-ins need), drops the
%% functions named in the skip file and their exports, and prints the rest
%% back as source that both erlc and `vm run` compile. It also writes the
%% driver module that runs each case. Runs under erl only.
%%
%%   erl -noshell -pa DIR -eval 'suite_prep:main(["SUITE.erl", "SKIP", "OUTDIR"])'
-module(suite_prep).
-export([main/1]).

%% What ct.hrl and test_server.hrl define that the suites use.
-define(HEADER,
        "-define(line, ).\n"
        "-define(config(Key, Config), proplists:get_value(Key, Config)).\n"
        "-define(t, test_server).\n"
        "-define(privdir(Config), proplists:get_value(priv_dir, Config)).\n"
        "-define(datadir(Config), proplists:get_value(data_dir, Config)).\n").

main([Suite, SkipFile, OutDir]) ->
    try prepare(Suite, SkipFile, OutDir) of
        ok -> halt(0)
    catch
        throw:{prep, Format, Args} ->
            io:format(standard_error, "suite_prep: " ++ Format ++ "~n", Args),
            halt(2)
    end.

prepare(Suite, SkipFile, OutDir) ->
    Module = list_to_atom(filename:basename(Suite, ".erl")),
    Skips = read_skips(SkipFile),
    {ok, Text} = file:read_file(Suite),
    Source = filename:join(OutDir, "prep_input.erl"),
    ok = file:write_file(Source, [?HEADER, strip_includes(Text)]),
    Forms = case epp:parse_file(Source, [{includes, []}]) of
                {ok, Fs} -> Fs;
                {error, E} -> throw({prep, "epp: ~p", [E]})
            end,
    ok = file:delete(Source),
    case [E || {error, E} <- Forms] of
        [] -> ok;
        Errors -> throw({prep, "~s: ~p", [Suite, Errors]})
    end,
    Dropped = [Name || {Name, _} <- Skips],
    Kept = [F || F0 <- Forms, F <- keep(F0, Dropped)],
    Exports = [FA || {attribute, _, export, FAs} <- Kept, FA <- FAs],
    Out = filename:join(OutDir, atom_to_list(Module) ++ ".erl"),
    ok = file:write_file(Out, [[erl_pp:form(F), $\n] || F <- Kept]),
    Has = fun(FA) -> lists:member(FA, Exports) end,
    Driver = driver(Module, Skips, Has({init_per_suite, 1}),
                    Has({init_per_testcase, 2}), Has({end_per_testcase, 2}),
                    Has({groups, 0})),
    ok = file:write_file(filename:join(OutDir, "suite_driver.erl"), Driver),
    ok.

%% `-include("x.hrl").` and `-include_lib(...)`: the header above stands in.
strip_includes(Text) ->
    re:replace(Text, "^-include(_lib)?\\([^)]*\\)\\.", "",
               [global, multiline, {return, binary}]).

%% The skip file: one `name reason...` per line; `#` starts a comment.
read_skips(File) ->
    {ok, Bin} = file:read_file(File),
    Lines = string:split(binary_to_list(Bin), "\n", all),
    [skip_line(L) || L0 <- Lines, L <- [string:trim(L0)], L =/= "", hd(L) =/= $#].

skip_line(Line) ->
    case string:split(Line, " ") of
        [Name, Reason] -> {list_to_atom(Name), string:trim(Reason)};
        [Name] -> {list_to_atom(Name), "excluded"}
    end.

keep({function, _, Name, _, _} = F, Dropped) ->
    [F || not lists:member(Name, Dropped)];
keep({attribute, L, export, FAs}, Dropped) ->
    [{attribute, L, export, [FA || {N, _} = FA <- FAs, not lists:member(N, Dropped)]}];
keep({attribute, _, Kind, _}, _) when Kind =:= file; Kind =:= spec; Kind =:= type;
                                      Kind =:= opaque; Kind =:= compile; Kind =:= export_type;
                                      Kind =:= include_lib; Kind =:= callback ->
    [];
keep({eof, _}, _) ->
    [];
keep(F, _) ->
    [F].

%% The driver runs every case of all/0 (groups flattened) in a process of
%% its own and prints one line per case: `Case: ok`, `Case: skipped`,
%% `Case: excluded (reason)` or `Case: failed Class:Reason`, each after
%% `=case ` so that the suite's own output can be told apart.
driver(Module, Skips, Suite, Init, End, Groups) ->
    M = atom_to_list(Module),
    io_lib:format(
      "-module(suite_driver).~n"
      "-export([main/0]).~n"
      "main() ->~n"
      "    Config0 = [{data_dir, \"data\"}, {priv_dir, \"priv\"}],~n"
      "    Config = ~s,~n"
      "    Cases = flatten(~s:all(), ~s),~n"
      "    Skips = ~p,~n"
      "    lists:foreach(fun(Case) -> run(Case, Config, Skips) end, Cases).~n"
      "~n"
      "flatten(Items, Groups) ->~n"
      "    lists:append([case Item of~n"
      "                      {group, G} -> {G, _, Members} = lists:keyfind(G, 1, Groups),~n"
      "                                    flatten(Members, Groups);~n"
      "                      Case when is_atom(Case) -> [Case]~n"
      "                  end || Item <- Items]).~n"
      "~n"
      "run(Case, Config, Skips) ->~n"
      "    case lists:keyfind(Case, 1, Skips) of~n"
      "        {Case, Reason} -> io:format(\"~~n=case ~~s: excluded (~~s)~~n\", [Case, Reason]);~n"
      "        false -> io:format(\"~~n=case ~~s: ~~s~~n\", [Case, outcome(Case, Config)])~n"
      "    end.~n"
      "~n"
      "outcome(Case, Config) ->~n"
      "    Self = self(),~n"
      "    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), call(Case, Config)} end),~n"
      "    receive~n"
      "        {Pid, Result} -> erlang:demonitor(Ref, [flush]), Result;~n"
      "        {'DOWN', Ref, process, Pid, Why} -> describe(exit, Why)~n"
      "    after 120000 -> exit(Pid, kill), \"failed timeout\"~n"
      "    end.~n"
      "~n"
      "call(Case, Config0) ->~n"
      "    try~n"
      "        Config = ~s,~n"
      "        Result = ~s:Case(Config),~n"
      "        ~s,~n"
      "        case Result of~n"
      "            {skip, _} -> \"skipped\";~n"
      "            {skipped, _} -> \"skipped\";~n"
      "            _ -> \"ok\"~n"
      "        end~n"
      "    catch~n"
      "        throw:{skip, _} -> \"skipped\";~n"
      "        Class:Reason -> describe(Class, Reason)~n"
      "    end.~n"
      "~n"
      "%% On one line: ~~P's line breaks and their indentation become a space.~n"
      "describe(Class, Reason) ->~n"
      "    squash(lists:flatten(io_lib:format(\"failed ~~s:~~P\", [Class, Reason, 12]))).~n"
      "~n"
      "squash([$\\n | Rest]) -> [$\\s | squash(string:trim(Rest, leading, \" \"))];~n"
      "squash([C | Rest]) -> [C | squash(Rest)];~n"
      "squash([]) -> [].~n",
      [case Suite of true -> M ++ ":init_per_suite(Config0)"; false -> "Config0" end,
       M, case Groups of true -> M ++ ":groups()"; false -> "[]" end,
       [{Name, Reason} || {Name, Reason} <- Skips],
       case Init of true -> M ++ ":init_per_testcase(Case, Config0)"; false -> "Config0" end,
       M,
       case End of true -> M ++ ":end_per_testcase(Case, Config)"; false -> "ok" end]).

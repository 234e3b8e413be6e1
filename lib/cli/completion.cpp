#include "cli/completion.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "msg/suite.hpp"
#include "wire/codec.hpp"

namespace kd::cli {

namespace {

// Options whose value is a file name (positional arguments always are).
const std::set<std::string> kFileOptions{"--keys", "--state", "--radius-secret-file", "--pcap-out",
                                         "--ladder-svg", "--stats", "--tools"};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::vector<std::string> binding_names(bool signaling, bool radius) {
  std::vector<std::string> out;
  for (auto b : {wire::Binding::json, wire::Binding::sip, wire::Binding::mgcp, wire::Binding::h248,
                 wire::Binding::h323, wire::Binding::radius}) {
    const bool is_radius = b == wire::Binding::radius;
    const bool is_json = b == wire::Binding::json;
    if ((is_radius && radius) || (is_json && signaling) || (!is_radius && !is_json && signaling))
      out.emplace_back(wire::binding_name(b));
  }
  return out;
}

// The values an enumerated option takes, as the tool's page and --help list them.
std::vector<std::string> enumerated(std::string_view tool, const std::string& option) {
  if (option == "--binding") {
    if (tool == "kd-auc") return {"json", "radius"};
    return binding_names(true, tool == "kd-decode");
  }
  if (option == "--encode") {
    auto v = binding_names(true, true);
    v.erase(v.begin());  // json is what --encode reads, not a binding it writes
    return v;
  }
  if (option == "--auc-link") return {"radius", "json"};
  if (option == "--role") return {"term", "proxy", "switch"};
  if (option == "--events") return {"all", "errors", "none"};
  if (option == "--suite") {
    std::vector<std::string> v;
    for (const auto& s : msg::all_suites()) v.emplace_back(s.name);
    return v;
  }
  return {};
}

// A shell-safe function name: _kd_term for kd-term.
std::string function_name(std::string_view tool) {
  std::string f = "_";
  for (char c : tool) f += (c == '-' || c == '.') ? '_' : c;
  return f;
}

struct Context {
  std::string path;  // "keys add": the subcommands on the way, space-separated ("" for the tool)
  std::vector<std::string> words;  // subcommands and options offered there
  bool files = false;              // a positional argument: file names too
};

bool is_help(const CLI::Option* o) { return o->get_lnames() == std::vector<std::string>{"help"}; }

void collect(const CLI::App& app, const std::string& path, const std::vector<const CLI::App*>& parents,
             std::vector<Context>& contexts, std::map<std::string, bool>& takes_value,
             std::map<std::string, std::map<std::string, std::string>>& transitions) {
  Context c;
  c.path = path;
  auto add_options = [&](const CLI::App& a, bool own) {
    for (const CLI::Option* o : a.get_options()) {
      if (o->get_group().empty()) continue;  // hidden
      if (o->get_positional() && o->get_lnames().empty()) {
        c.files = c.files || own;  // a parent's positional argument does not follow a subcommand
        continue;
      }
      for (const auto& l : o->get_lnames()) {
        std::string name = "--" + l;
        if (std::find(c.words.begin(), c.words.end(), name) == c.words.end()) c.words.push_back(name);
        takes_value[name] = takes_value[name] || o->get_expected_max() != 0;
      }
      for (const auto& s : o->get_snames()) {
        if (is_help(o)) continue;
        c.words.push_back("-" + s);
      }
    }
  };
  add_options(app, true);
  // A subcommand with fallthrough also takes the options of the subcommands above it.
  if (app.get_fallthrough())
    for (const CLI::App* p : parents) add_options(*p, false);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    c.words.push_back(sub->get_name());
    std::string sub_path = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    transitions[path][sub->get_name()] = sub_path;
    auto up = parents;
    up.push_back(&app);
    collect(*sub, sub_path, up, contexts, takes_value, transitions);
  }
  contexts.push_back(std::move(c));
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

std::string bash_completion(const CLI::App& app, std::string_view tool) {
  std::vector<Context> contexts;
  std::map<std::string, bool> takes_value;
  std::map<std::string, std::map<std::string, std::string>> transitions;
  collect(app, "", {}, contexts, takes_value, transitions);
  std::sort(contexts.begin(), contexts.end(), [](const Context& a, const Context& b) { return a.path < b.path; });

  const std::string fn = function_name(tool);
  std::string s;
  s += "# bash completion for " + std::string(tool) + ", generated from its own command line by `" +
       std::string(tool) + " --bash-completion`.\n";
  s += fn + "() {\n";
  s += "  local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\" ctx=\"\" skip=0 i w\n";
  s += "  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n";
  // --opt=value: bash splits at '=' (COMP_WORDBREAKS), so the option is two words back.
  s += "  if [[ $cur == = ]]; then cur=\"\"; elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then "
       "prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n";
  s += "  for ((i = 1; i < COMP_CWORD; i++)); do\n";
  s += "    w=${COMP_WORDS[i]}\n";
  s += "    if ((skip)); then skip=0; [[ $w == = ]] && skip=1; continue; fi\n";
  s += "    case \"$ctx|$w\" in\n";
  for (const auto& [from, subs] : transitions)
    for (const auto& [name, to] : subs) s += "      " + quoted(from + "|" + name) + ") ctx=" + quoted(to) + " ;;\n";
  std::vector<std::string> valued;
  for (const auto& [name, v] : takes_value)
    if (v) valued.push_back(name);
  if (!valued.empty()) {
    s += "      ";
    for (std::size_t i = 0; i < valued.size(); ++i) s += (i ? "|" : "") + std::string("*\"|") + valued[i] + "\"";
    s += ") skip=1 ;;\n";
  }
  s += "    esac\n";
  s += "  done\n";
  // The value of an option.
  s += "  case \"$prev\" in\n";
  for (const auto& name : valued) {
    auto values = enumerated(tool, name);
    if (!values.empty()) {
      s += "    " + name + ") COMPREPLY=($(compgen -W " + quoted(join(values)) + " -- \"$cur\")); return ;;\n";
    } else if (kFileOptions.count(name)) {
      s += "    " + name + ") compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
    } else {
      s += "    " + name + ") COMPREPLY=(); return ;;\n";  // a value kd cannot guess (an id, a seed)
    }
  }
  s += "  esac\n";
  // The words of the context: subcommands and options; file names where a positional goes.
  s += "  local words=\"\" files=0\n";
  s += "  case \"$ctx\" in\n";
  for (const auto& c : contexts)
    s += "    " + quoted(c.path) + ") words=" + quoted(join(c.words)) + "; files=" + (c.files ? "1" : "0") + " ;;\n";
  s += "  esac\n";
  s += "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n";
  s += "  if ((files)) && [[ $cur != -* ]]; then\n";
  s += "    compopt -o filenames 2>/dev/null\n";
  s += "    COMPREPLY+=($(compgen -f -- \"$cur\"))\n";
  s += "  fi\n";
  s += "}\n";
  s += "complete -F " + fn + " " + std::string(tool) + "\n";
  return s;
}

}  // namespace kd::cli

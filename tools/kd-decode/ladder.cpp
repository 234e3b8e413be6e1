#include "ladder.hpp"

#include <algorithm>

#include "json/line.hpp"
#include "wire/codec.hpp"

namespace kd::tools {

namespace {

// Text: column c's bar is at kMargin + c * kWidth. SVG: at kLeft + c * kCol.
constexpr int kWidth = 22, kMargin = 8;
constexpr int kCol = 180, kLeft = 90, kTop = 50, kStep = 30;

// What the message is called in its binding (the binding table's), or "" ("unknown", json).
std::string wire_name(std::string_view binding, const msg::Message& m) {
  const auto b = wire::parse_binding(binding);
  return b ? std::string(wire::element_name(*b, msg::spec_of(m))) : std::string();
}

std::string rtrim(std::string s) {
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

// A row of bars, one per column.
std::string bars(int columns) {
  std::string line(static_cast<std::size_t>(kMargin + (columns - 1) * kWidth + 1), ' ');
  for (int c = 0; c < columns; ++c) line[static_cast<std::size_t>(kMargin + c * kWidth)] = '|';
  return line;
}

std::string text_row(const Ladder::Row& r) {
  using Kind = Ladder::Row::Kind;
  switch (r.kind) {
    case Kind::header: {
      std::string line(static_cast<std::size_t>(kMargin + static_cast<int>(r.names.size()) * kWidth), ' ');
      for (std::size_t c = 0; c < r.names.size(); ++c) {
        const auto& name = r.names[c];
        const auto at = static_cast<std::size_t>(std::max(0, kMargin + static_cast<int>(c) * kWidth - static_cast<int>(name.size()) / 2));
        if (line.size() < at + name.size()) line.resize(at + name.size(), ' ');
        line.replace(at, name.size(), name);
      }
      return rtrim(line);
    }
    case Kind::arrow: {
      std::string line = bars(r.columns);
      const int a = kMargin + std::min(r.from, r.to) * kWidth, b = kMargin + std::max(r.from, r.to) * kWidth;
      for (int x = a + 1; x < b; ++x) line[static_cast<std::size_t>(x)] = '-';
      if (r.to > r.from) line[static_cast<std::size_t>(b - 1)] = '>';
      else line[static_cast<std::size_t>(a + 1)] = '<';
      std::string label = " " + r.text + (r.ok ? " " : " ! ");
      const int room = b - a - 3;
      if (static_cast<int>(label.size()) > room) label.resize(static_cast<std::size_t>(std::max(room, 0)));
      const int at = a + 2 + (room - static_cast<int>(label.size())) / 2;
      line.replace(static_cast<std::size_t>(at), label.size(), label);
      return line;
    }
    case Kind::mark: {
      std::string line = bars(r.columns);
      line.resize(static_cast<std::size_t>(kMargin + r.from * kWidth + 1));
      return line + "  " + r.text;
    }
    case Kind::note:
      return "    " + r.text;
  }
  return "";
}

std::string xml_escape(std::string_view s) {
  std::string o;
  for (char ch : s) {
    if (ch == '<') o += "&lt;";
    else if (ch == '>') o += "&gt;";
    else if (ch == '&') o += "&amp;";
    else o += ch;
  }
  return o;
}

}  // namespace

int Ladder::column(msg::Role r) const {
  const bool proxied = !layout_ || layout_->flow == msg::Flow::proxied;
  switch (r) {
    case msg::Role::term: return 0;
    case msg::Role::proxy: return 1;
    case msg::Role::sw: return proxied ? 2 : 1;
    case msg::Role::auc: return proxied ? 3 : 2;
  }
  return 0;
}

void Ladder::use_layout(const Layout& l) {
  if (layout_ && *layout_ == l) return;
  layout_ = l;
  Row h;
  h.kind = Row::Kind::header;
  const auto named = [](std::string role, const std::string& id) {
    return id.empty() ? role : role + "(" + printable(id) + ")";
  };
  h.names.push_back(named("term", l.idc));
  if (l.flow == msg::Flow::proxied) {
    h.names.push_back(named("proxy", l.peer));
    h.names.emplace_back("switch");  // proxied messages do not name the switch
  } else {
    h.names.push_back(named("switch", l.peer));
  }
  h.names.emplace_back("auc");
  add(std::move(h));
}

void Ladder::add(Row row) {
  drawn_ = true;
  row.columns = layout_ ? (layout_->flow == msg::Flow::proxied ? 4 : 3) : 0;
  if (text_) {
    *text_ += text_row(row);
    *text_ += '\n';
  }
  if (!svg_) return;
  if (rows_.size() < kSvgMaxRows) rows_.push_back(std::move(row));
  else ++more_;
}

void Ladder::message(const msg::Message& m, std::string_view binding, const std::vector<verify::Check>& checks) {
  use_layout({m.flow, *m.IDc, m.flow == msg::Flow::proxied ? *m.IDsp : *m.IDss});
  const auto& spec = msg::spec_of(m);
  Row r;
  r.kind = Row::Kind::arrow;
  r.from = column(spec.from);
  r.to = column(spec.to);
  r.text = std::string(spec.name);
  if (auto n = wire_name(binding, m); !n.empty()) r.text += " " + n;
  for (const auto& c : checks) r.ok = r.ok && c.ok;
  add(std::move(r));
  for (const auto& c : checks) {
    if (c.ok) continue;
    Row n;
    n.text = "! " + std::string(c.name) + ": " + printable(c.detail);
    n.ok = false;
    add(std::move(n));
  }
}

void Ladder::error(std::uint64_t frame, const Error& e) {
  Row n;
  n.text = "! frame " + std::to_string(frame) + ": " + std::string(code_name(e.code)) + ": " + printable(e.detail);
  n.ok = false;
  add(std::move(n));
}

void Ladder::provisional(std::string_view element, std::string_view answers, std::uint64_t frame) {
  // Short enough for the arrow between neighbouring columns.
  const std::string_view label = element == "TransactionPending" ? "Pending" : element == "RequestInProgress" ? "RIP" : element;
  const msg::StepSpec* spec = in_layout(answers);
  Row r;
  if (spec) {
    r.kind = Row::Kind::arrow;
    r.from = column(spec->to);
    r.to = column(spec->from);
    r.text = "(" + std::string(answers) + ") " + std::string(label);
  } else {
    r.text = "~ frame " + std::to_string(frame) + ": " + std::string(label) + " (provisional)";
  }
  add(std::move(r));
}

void Ladder::retransmission(std::string_view step, std::uint64_t of, std::uint64_t frame) {
  Row r;
  if (const msg::StepSpec* spec = in_layout(step)) {
    r.kind = Row::Kind::arrow;
    r.from = column(spec->from);
    r.to = column(spec->to);
    r.text = "(" + std::string(step) + " again)";
  } else {
    r.text = "~ frame " + std::to_string(frame) + ": retransmission of frame " + std::to_string(of);
  }
  add(std::move(r));
}

const msg::StepSpec* Ladder::in_layout(std::string_view step) const {
  const msg::StepSpec* spec = step.empty() ? nullptr : msg::find_step(step);
  return spec && layout_ && layout_->flow == spec->flow ? spec : nullptr;
}

void Ladder::event(std::string_view line) {
  const std::string name = json::string_field(line, "event").value_or("");
  const auto step = json::string_field(line, "step");
  const auto flow = json::string_field(line, "flow");
  const auto idc = json::string_field(line, "IDc");
  const auto peer = json::string_field(line, flow == "direct" ? "IDss" : "IDsp");
  if (flow && idc && peer && (*flow == "proxied" || *flow == "direct"))
    use_layout({*flow == "proxied" ? msg::Flow::proxied : msg::Flow::direct, *idc, *peer});
  else if (!layout_)
    use_layout({msg::Flow::proxied, "", ""});
  Row r;
  r.kind = Row::Kind::mark;
  // Under the tool that printed it: the one a refused message was for, the terminal, the edge
  // (the proxy, or the switch of the direct flow), the AuC.
  const msg::StepSpec* spec = step ? msg::find_step(*step) : nullptr;
  if (name == "error") r.from = spec ? column(spec->to) : 0;
  else if (name == "key-established") r.from = column(layout_->flow == msg::Flow::proxied ? msg::Role::proxy : msg::Role::sw);
  else if (name == "registration-recorded") r.from = column(msg::Role::auc);
  else r.from = 0;
  if (name == "error") {
    r.text = "X " + printable(json::string_field(line, "code").value_or("?"));
    r.ok = false;
  } else {
    r.text = "* " + printable(name);
    if (auto mech = json::string_field(line, "SecMech"); mech && name == "registered") r.text += " " + printable(*mech);
  }
  add(std::move(r));
}

void Ladder::registration(const verify::RegistrationReport& r) {
  Row n;
  n.text = "== " + printable(r.idc) + " (" + std::string(msg::flow_name(r.flow)) + "): ";
  n.text += r.completed ? "completed" : "stopped at " + printable(r.stopped_at) + ": " + printable(r.reason);
  for (std::size_t i = 0; i < r.unverified.size(); ++i) {
    n.text += i ? ", " : "; unverified: ";
    n.text += r.unverified[i];
  }
  n.ok = r.completed;
  add(std::move(n));
}

void Ladder::finish() {
  if (drawn_) return;
  Row n;
  n.text = "(no KD message in the input)";
  add(std::move(n));
}

std::string Ladder::svg() const {
  int columns = 1;
  for (const auto& r : rows_) columns = std::max(columns, r.columns);
  const int height = kTop + static_cast<int>(rows_.size()) * kStep + (more_ ? 40 : 20);
  const int width = std::max(kLeft * 2 + (columns - 1) * kCol, 480);
  std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(width) + "\" height=\"" + std::to_string(height) +
                  "\" font-family=\"monospace\" font-size=\"12\">\n";
  o += "<defs><marker id=\"a\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\" refY=\"4\" orient=\"auto\">"
       "<path d=\"M0,0 L10,4 L0,8 z\"/></marker></defs>\n";
  const auto x_of = [](int c) { return kLeft + c * kCol; };
  const auto text = [&](int x, int y, const char* anchor, const char* colour, std::string_view s, bool bold = false) {
    o += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" text-anchor=\"" + anchor + "\" fill=\"" +
         colour + "\"" + (bold ? " font-weight=\"bold\"" : "") + ">" + xml_escape(s) + "</text>\n";
  };
  // Lifelines run from each header to the next one (or the end).
  int y = kTop, line_top = 0, line_columns = 0;
  const auto lifelines = [&](int bottom) {
    for (int c = 0; c < line_columns; ++c)
      o += "<line x1=\"" + std::to_string(x_of(c)) + "\" y1=\"" + std::to_string(line_top) + "\" x2=\"" +
           std::to_string(x_of(c)) + "\" y2=\"" + std::to_string(bottom) + "\" stroke=\"#888\"/>\n";
  };
  for (const auto& r : rows_) {
    const char* colour = r.ok ? "#000" : "#c00";
    switch (r.kind) {
      case Row::Kind::header:
        lifelines(y - kStep + 8);
        for (std::size_t c = 0; c < r.names.size(); ++c) text(x_of(static_cast<int>(c)), y, "middle", "#000", r.names[c], true);
        line_top = y + 6;
        line_columns = static_cast<int>(r.names.size());
        break;
      case Row::Kind::arrow: {
        const int x1 = x_of(r.from), x2 = x_of(r.to);
        o += "<line x1=\"" + std::to_string(x1) + "\" y1=\"" + std::to_string(y) + "\" x2=\"" + std::to_string(x2) +
             "\" y2=\"" + std::to_string(y) + "\" stroke=\"" + colour + "\" marker-end=\"url(#a)\"/>\n";
        text((x1 + x2) / 2, y - 5, "middle", colour, r.ok ? r.text : r.text + " !");
        break;
      }
      case Row::Kind::mark:
        text(x_of(r.from) + 8, y + 4, "start", colour, r.text);
        break;
      case Row::Kind::note:
        text(10, y + 4, "start", colour, r.text);
        break;
    }
    y += kStep;
  }
  lifelines(y - kStep + 10);
  if (more_) text(10, y, "start", "#000", "(" + std::to_string(more_) + " more rows not drawn)");
  o += "</svg>\n";
  return o;
}

}  // namespace kd::tools

// kd-decode: prints every KD message of a capture, a JSON Lines file or a raw wire message as one
// JSON line, and with --keys verifies the registrations it sees (kd-decode(1)).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <array>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/io.hpp"
#include "cli/tools.hpp"
#include "cli/wire_io.hpp"
#include "engine/verify.hpp"
#include "json/codec.hpp"

namespace kd::cli {

namespace {

constexpr std::size_t kSvgMaxRows = 5000;

// Positions of the four roles in the ladder.
int column(msg::Role r) {
  switch (r) {
    case msg::Role::term: return 0;
    case msg::Role::proxy: return 1;
    case msg::Role::sw: return 2;
    case msg::Role::auc: return 3;
  }
  return 0;
}

// What the message is called in its binding, for the ladder.
std::string wire_name(std::string_view binding, const msg::Message& m) {
  static const std::map<std::string_view, std::array<std::string_view, 4>> kNames{
      // start, challenge, answer, success
      {"sip", {"REGISTER", "401", "REGISTER", "200 OK"}},
      {"mgcp", {"RSIP", "RQNT", "NTFY", "RQNT"}},
      {"h248", {"ServiceChange", "Modify", "Notify", "Modify"}},
      {"h323", {"GRQ", "GRJ", "RRQ", "RCF"}},
  };
  const auto& spec = msg::spec_of(m);
  const int pos = m.flow == msg::Flow::proxied ? m.step : std::array{0, 1, 3, 4, 6, 7, 10, 11}[m.step];
  if (binding == "radius")
    return pos == 3 ? "Access-Req" : pos == 4 ? "Access-Chal" : "Acct-Req";
  if (binding == "sip" && m.flow == msg::Flow::proxied && m.step == 6) return "407";  // the proxy challenges
  auto it = kNames.find(binding);
  if (it == kNames.end() || spec.from == msg::Role::auc || spec.to == msg::Role::auc) return "";
  const int kind = pos <= 2 ? 0 : pos <= 6 ? 1 : pos <= 8 ? 2 : 3;
  return std::string(it->second[static_cast<std::size_t>(kind)]);
}

struct Row {
  int from, to;
  std::string label;
  bool ok;
};

std::string ladder_line(const Row& r) {
  constexpr int kWidth = 22, kMargin = 4;
  std::string line(kMargin + 3 * kWidth + 1, ' ');
  for (int c = 0; c < 4; ++c) line[static_cast<std::size_t>(kMargin + c * kWidth)] = '|';
  const int a = kMargin + std::min(r.from, r.to) * kWidth, b = kMargin + std::max(r.from, r.to) * kWidth;
  for (int x = a + 1; x < b; ++x) line[static_cast<std::size_t>(x)] = '-';
  if (r.to > r.from) line[static_cast<std::size_t>(b - 1)] = '>';
  else line[static_cast<std::size_t>(a + 1)] = '<';
  std::string label = " " + r.label + (r.ok ? " " : " ! ");
  const int room = b - a - 3;
  if (static_cast<int>(label.size()) > room) label = label.substr(0, static_cast<std::size_t>(std::max(room, 0)));
  const int at = a + 2 + (room - static_cast<int>(label.size())) / 2;
  line.replace(static_cast<std::size_t>(at), label.size(), label);
  return line;
}

std::string ladder_header() {
  return "    term                  proxy                 switch                auc";
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

std::string ladder_svg(const std::vector<Row>& rows, std::uint64_t more) {
  constexpr int kCol = 180, kLeft = 90, kTop = 50, kStep = 34;
  const int height = kTop + static_cast<int>(rows.size()) * kStep + (more ? 40 : 20);
  const int width = kLeft * 2 + 3 * kCol;
  std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" font-family=\"monospace\" font-size=\"12\">\n";
  o += "<defs><marker id=\"a\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\" refY=\"4\" orient=\"auto\">"
       "<path d=\"M0,0 L10,4 L0,8 z\"/></marker></defs>\n";
  const char* names[] = {"term", "proxy", "switch", "auc"};
  for (int c = 0; c < 4; ++c) {
    const int x = kLeft + c * kCol;
    o += "<text x=\"" + std::to_string(x) + "\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">" + names[c] + "</text>\n";
    o += "<line x1=\"" + std::to_string(x) + "\" y1=\"32\" x2=\"" + std::to_string(x) + "\" y2=\"" +
         std::to_string(height - 10) + "\" stroke=\"#888\"/>\n";
  }
  int y = kTop;
  for (const auto& r : rows) {
    const int x1 = kLeft + r.from * kCol, x2 = kLeft + r.to * kCol;
    const char* colour = r.ok ? "#000" : "#c00";
    o += "<line x1=\"" + std::to_string(x1) + "\" y1=\"" + std::to_string(y) + "\" x2=\"" + std::to_string(x2) +
         "\" y2=\"" + std::to_string(y) + "\" stroke=\"" + colour + "\" marker-end=\"url(#a)\"/>\n";
    o += "<text x=\"" + std::to_string((x1 + x2) / 2) + "\" y=\"" + std::to_string(y - 5) +
         "\" text-anchor=\"middle\" fill=\"" + colour + "\">" + xml_escape(r.label) + (r.ok ? "" : " !") + "</text>\n";
    y += kStep;
  }
  if (more)
    o += "<text x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(y) + "\">(" + std::to_string(more) +
         " more messages not drawn)</text>\n";
  o += "</svg>\n";
  return o;
}

std::string endpoint(const std::string& ip, std::uint16_t port) {
  return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

}  // namespace

int decode_main(int argc, char** argv) {
  CLI::App app{"kd-decode: decode and verify KD messages in captures, JSON Lines or raw wire messages"};
  std::vector<std::string> inputs;
  std::string binding = "json", keys_path, secret_file, svg_path;
  std::uint64_t skew = 300;
  bool check = false, ladder = false, show_key = false;
  app.add_option("input", inputs, "pcap, pcapng, JSON Lines or raw wire message files ('-': standard input, the default)");
  app.add_option("--binding", binding, "the binding of a raw wire message (default: each binding is tried)");
  app.add_option("--keys", keys_path, "keystore (JSON): verify verification words, sealed keys and MACs");
  app.add_option("--radius-secret-file", secret_file, "RADIUS shared secret: decode and verify the AuC link");
  app.add_option("--skew", skew, "timestamp window in seconds for the checks (default 300)");
  app.add_flag("--check", check, "exit 1 when a message does not decode, a check fails or a registration is incomplete");
  app.add_flag("--ladder", ladder, "print a text sequence diagram instead of JSON lines");
  app.add_option("--ladder-svg", svg_path, "write the sequence diagram as an SVG picture to this file");
  app.add_flag("--show-key", show_key, "print recovered session keys in registration lines (with --keys)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  if (inputs.empty()) inputs.push_back("-");
  WireOptions wo;
  auto b = wire::parse_binding(binding);
  if (!b) {
    std::cerr << "kd-decode: --binding: unknown binding \"" << binding << "\" (json, sip, mgcp, h248, h323, radius)\n";
    return kExitUsage;
  }
  wo.binding = *b;
  wo.radius_link = false;

  try {
    flow::Keystore keys;
    if (!keys_path.empty()) {
      auto text = read_file(keys_path);
      if (!text) throw IoError{"keystore " + keys_path + " does not exist"};
      auto ks = json::decode_keystore(*text);
      secure_wipe(text->data(), text->size());
      if (!ks) throw IoError{"keystore " + keys_path + ": " + ks.error().detail};
      keys = std::move(*ks);
    }
    if (!secret_file.empty()) wo.radius_secret = read_radius_secret(secret_file, "kd-decode");
    WireSide side(wo, std::nullopt);
    engine::Verifier verifier(keys_path.empty() ? nullptr : &keys, skew);
    json::DecodeSummary sum;
    std::vector<Row> svg_rows;
    std::uint64_t svg_more = 0;
    bool header_done = false;

    auto report = [&](const engine::RegistrationReport& r) {
      ++sum.registrations;
      if (r.completed) ++sum.completed;
      if (ladder) {
        std::cout << "    == " << r.idc << " (" << msg::flow_name(r.flow) << "): "
                  << (r.completed ? "completed" : "stopped at " + r.stopped_at + ": " + r.reason) << "\n";
      } else {
        std::cout << json::encode_registration(r, show_key) << "\n";
      }
    };
    auto emit = [&](json::DecodedRecord& rec, std::optional<std::uint64_t> time) {
      std::vector<engine::Check> checks;
      std::vector<engine::RegistrationReport> done;
      if (rec.message) {
        ++sum.messages;
        checks = verifier.observe(*rec.message, time, done);
        for (const auto& c : checks) sum.failed_checks += c.ok ? 0 : 1;
      } else {
        ++sum.errors;
      }
      rec.checks = &checks;
      bool ok = true;
      for (const auto& c : checks) ok = ok && c.ok;
      if (rec.message) {
        const auto& spec = msg::spec_of(*rec.message);
        std::string label = std::string(spec.name);
        if (auto n = wire_name(rec.binding, *rec.message); !n.empty()) label += " " + n;
        Row row{column(spec.from), column(spec.to), label, ok};
        if (ladder) {
          if (!header_done) std::cout << ladder_header() << "\n";
          header_done = true;
          std::cout << ladder_line(row) << "\n";
          for (const auto& c : checks)
            if (!c.ok) std::cout << "    ! " << c.name << ": " << c.detail << "\n";
        }
        if (!svg_path.empty()) {
          if (svg_rows.size() < kSvgMaxRows) svg_rows.push_back(row);
          else ++svg_more;
        }
      } else if (ladder) {
        std::cout << "    ! frame " << rec.frame << ": " << code_name(rec.error->code) << ": " << rec.error->detail << "\n";
      }
      if (!ladder) std::cout << json::encode_decoded(rec) << "\n";
      for (const auto& r : done) report(r);
    };

    for (const auto& path : inputs) {
      Input in(path, true);
      InputItem item;
      std::uint64_t line_no = 0;
      while (in.next(item)) {
        json::DecodedRecord rec;
        std::optional<msg::Message> m;
        std::optional<std::uint64_t> time;
        if (item.kind == InputItem::Kind::line) {
          rec.frame = ++line_no;
          ++sum.frames;
          if (json::string_field(item.line, "event")) {  // a tool's event line in a transcript
            ++sum.skipped;
            continue;
          }
          rec.binding = json::is_wire_line(item.line) ? json::string_field(item.line, "binding").value_or("?") : "json";
          auto r = side.from_line(item.line, nullptr);
          if (r) m = std::move(*r);
          else rec.error = r.error();
        } else if (item.kind == InputItem::Kind::raw) {
          rec.frame = 1;
          ++sum.frames;
          wire::Binding used = wire::Binding::json;
          auto r = *b == wire::Binding::json ? side.from_raw(item.raw, &used) : [&]() -> Result<msg::Message> {
            auto c = wire::make_codec(*b, {wo.radius_secret});
            if (!c) return err(Code::malformed, "--binding radius needs --radius-secret-file");
            used = *b;
            return c->decode(item.raw);
          }();
          rec.binding = r || *b != wire::Binding::json ? std::string(wire::binding_name(used)) : "unknown";
          if (r) m = std::move(*r);
          else rec.error = r.error();
        } else {
          const auto& p = item.packet;
          wire::Binding used = wire::Binding::json;
          auto r = side.from_packet(p, &used);
          if (!r) continue;
          rec.frame = p.frame;
          char t[40];
          std::snprintf(t, sizeof t, "%lld.%09u", static_cast<long long>(p.ts_sec), p.ts_nsec);
          rec.time = t;
          if (p.ts_sec >= 0) time = static_cast<std::uint64_t>(p.ts_sec);
          rec.src = endpoint(p.src_ip, p.src_port);
          rec.dst = endpoint(p.dst_ip, p.dst_port);
          rec.transport = p.transport == capture::Transport::udp ? "udp" : "tcp";
          rec.binding = wire::binding_name(used);
          if (*r) m = std::move(**r);
          else rec.error = r->error();
        }
        if (m) rec.message = &*m;
        emit(rec, time);
      }
      if (const auto* st = in.capture_stats()) {
        sum.frames += st->frames;
        sum.truncated += st->truncated;
        sum.skipped += st->skipped_non_ip + st->skipped_transport + st->skipped_other + st->bad_headers;
      }
    }
    sum.skipped += side.skipped_foreign();
    for (const auto& r : verifier.finish()) report(r);
    if (!ladder) std::cout << json::encode_summary(sum) << "\n";
    std::cout.flush();
    if (!svg_path.empty()) write_file_atomic(svg_path, ladder_svg(svg_rows, svg_more));
    const bool bad = sum.errors > 0 || sum.failed_checks > 0 || sum.completed < sum.registrations;
    return check && bad ? kExitRejected : kExitOk;
  } catch (const IoError& e) {
    std::cout.flush();
    std::cerr << "kd-decode: " << e.what << "\n";
    return kExitFile;
  }
}

}  // namespace kd::cli

// kd-decode's sequence diagram, as text and as SVG from the same rows (kd-decode(1), --ladder):
// a header naming the parties (the proxy's column only in the proxied flow), one arrow per message
// labelled with its step and its name in the binding, the failed checks under it, the events of a
// tool's transcript under the column of the tool that printed them, one line per registration as
// it ends. kd-flow --ladder draws its transcript through it. Text from the input is escaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "verify/verifier.hpp"
#include "msg/message.hpp"

namespace kd::tools {

class Ladder {
public:
  static constexpr std::size_t kSvgMaxRows = 5000;

  // text: where the text rows go as they are drawn (nullptr: none); svg: keep rows for svg().
  Ladder(std::string* text, bool svg) : text_(text), svg_(svg) {}

  void message(const msg::Message& m, std::string_view binding, const std::vector<verify::Check>& checks);
  void error(std::uint64_t frame, const Error& e);      // a message that did not decode
  // A provisional answer (element: as json::ProvisionalAnswer names it) to the request of step
  // answers: an arrow back from that request's recipient, or a note when the step is unknown ("").
  void provisional(std::string_view element, std::string_view answers, std::uint64_t frame);
  // A retransmission (frame) of frame `of`, a message of step (or "": none): an arrow like the
  // step's, or a note when the step is unknown or of another flow than the one drawn.
  void retransmission(std::string_view step, std::uint64_t of, std::uint64_t frame);
  void event(std::string_view line);                   // an event line of a tool's transcript
  void registration(const verify::RegistrationReport& r);
  // At the end of the input: says so when nothing at all was drawn.
  void finish();
  // The picture of the first kSvgMaxRows rows, and how many more there were.
  std::string svg() const;

  struct Row {
    enum class Kind : std::uint8_t { header, arrow, mark, note } kind = Kind::note;
    std::vector<std::string> names;  // header: the columns' labels
    int from = 0, to = 0;            // arrow: columns; mark: its column in `from`
    std::string text;                // arrow label, mark, note (escaped)
    bool ok = true;                  // false: a failure (drawn in red)
    int columns = 0;                 // of the layout it is drawn in (0 before the first header)
  };

private:
  // The parties a header names: a new one is drawn when they change.
  struct Layout {
    msg::Flow flow = msg::Flow::proxied;
    std::string idc, peer;
    bool operator==(const Layout&) const = default;
  };
  int column(msg::Role r) const;
  // The step's spec when it can be drawn as an arrow in the current layout, else nullptr.
  const msg::StepSpec* in_layout(std::string_view step) const;
  void use_layout(const Layout& l);
  void add(Row row);

  std::string* text_;
  bool svg_;
  bool drawn_ = false;
  std::optional<Layout> layout_;
  std::vector<Row> rows_;  // for the SVG
  std::uint64_t more_ = 0;
};

}  // namespace kd::tools

#include "json/event.hpp"

#include "json/internal.hpp"

namespace kd::json {

std::string encode_event(const flow::Event& e, bool show_key) {
  ojson j;
  j["event"] = e.name;
  if (e.step) {
    j["step"] = e.step->name;
    j["flow"] = msg::flow_name(e.step->flow);
  }
  j["suite"] = e.suite;
  j["IDc"] = e.idc;
  if (e.step) j[e.step->flow == msg::Flow::proxied ? "IDsp" : "IDss"] = e.peer;
  if (!e.mech.empty()) j["SecMech"] = e.mech;
  if (!e.ipc.empty()) j["IPc"] = e.ipc;
  if (show_key && !e.session_key.empty()) j["session_key"] = to_hex(e.session_key.view());
  return j.dump();
}

std::string encode_error(const Error& e, std::string_view step) {
  ojson j;
  j["event"] = "error";
  j["code"] = code_name(e.code);
  if (step.empty()) j["step"] = nullptr;
  else j["step"] = step;
  j["detail"] = e.detail;
  return j.dump(-1, ' ', true, json::error_handler_t::replace);
}

}  // namespace kd::json

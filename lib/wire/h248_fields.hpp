// The H.248 binding's field table (kd-protocol(7), "H.248 / MEGACO text"), in the order the items
// are written (the fields' tag order). Each element is an item name of kd's package, written as
// the parameter <name> of the event kd/auth (the challenge and the answer), as the termination
// property kd/<name> (the success), or as the ServiceChange extension X-<NAME> (the restart; RFC
// 3525 caps extension names at six characters, hence the short names).
#pragma once

#include "wire/fields.hpp"

namespace kd::wire::h248 {

// The package whose items these are.
inline constexpr std::string_view kPackage[] = {"kd"};

using F = msg::Field;
inline constexpr FieldEntry kFields[] = {
    {F::suite, "suite", Form::quoted},
    {F::IDc, "idc", Form::quoted},
    {F::IDsp, "idsp", Form::quoted},
    {F::IDss, "idss", Form::quoted},
    {F::N1, "n1", Form::hex},
    {F::N2, "n2", Form::hex},
    {F::TS1, "ts", Form::decimal},
    {F::TS2, "ts", Form::decimal},
    {F::TS3, "ts", Form::decimal},
    {F::TS4, "ts", Form::decimal},
    {F::Rand, "rand", Form::hex},
    {F::Authenticator_c, "authc", Form::hex},
    {F::EKc, "ekc", Form::hex},
    {F::EKsp, "eksp", Form::hex},
    {F::EKss, "ekss", Form::hex},
    {F::SecMechReq, "smreq", Form::on_off},
    {F::SecMechList, "mechs", Form::quoted_mech_list},
    {F::SecMech, "mech", Form::quoted},
    {F::IPc, "ipc", Form::quoted},
    {F::MAC, "mac", Form::hex},
};

}  // namespace kd::wire::h248

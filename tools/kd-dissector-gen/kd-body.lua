-- ---- The hand-written part (tools/kd-dissector-gen/kd-body.lua) --------------------------------
-- Everything above is generated from kd's tables; what follows knows each protocol's syntax (where
-- a KD value can sit in SIP, MGCP, H.248 text, H.323 RAS and RADIUS) and the forms of the values,
-- but no KD element, attribute or tag: those it reads from KD.bindings. kd-dissector(7) says
-- what it shows and how it names the step. kd-decode verifies; this only shows.

local kd = Proto("kd", "KD key distribution")

-- ---- fields ------------------------------------------------------------------------------------

local pf = {}            -- ProtoField by Wireshark name (kd.<name>)
local field_info = {}    -- KD.fields entry by carried name (the tables' field)
local proto_fields = {}
local function declare(name, label, type)
  local abbr = "kd." .. name
  local f
  if type == "bytes" then f = ProtoField.bytes(abbr, label)
  elseif type == "uint64" then f = ProtoField.uint64(abbr, label, base.DEC)
  elseif type == "bool" then f = ProtoField.bool(abbr, label)
  else f = ProtoField.string(abbr, label) end
  pf[name] = f
  proto_fields[#proto_fields + 1] = f
end
declare("step", "Step", "string")
for _, f in ipairs(KD.fields) do
  field_info[f.carried] = f
  if not pf[f.name] then declare(f.name, f.label, f.type) end
end
kd.fields = proto_fields

local ex_no_step = ProtoExpert.new("kd.no_step", "No step of kd-protocol(7) carries exactly these KD values",
                                   expert.group.PROTOCOL, expert.severity.WARN)
local ex_bad_value = ProtoExpert.new("kd.bad_value", "KD value not of its form", expert.group.MALFORMED,
                                     expert.severity.WARN)
kd.experts = { ex_no_step, ex_bad_value }

-- ---- the tables, indexed -----------------------------------------------------------------------

-- binding name -> { by_element = { [lower element] = {entries...} }, by_number = { [place] = { [n] = {entries} } },
--                   holders, vendor_id }; the entries of one element are adjacent in a table, and
-- which of them a message carries is for the step to say (step_entry below).
local bindings = {}
for _, b in ipairs(KD.bindings) do
  local x = { holders = b.holders, vendor_id = b.vendor_id, by_element = {}, by_number = {}, entries = b.entries }
  for _, e in ipairs(b.entries) do
    if e.number ~= 0 then
      x.by_number[e.place] = x.by_number[e.place] or {}
      local l = x.by_number[e.place][e.number] or {}
      l[#l + 1] = e
      x.by_number[e.place][e.number] = l
    else
      local k = e.element:lower()
      local l = x.by_element[k] or {}
      l[#l + 1] = e
      x.by_element[k] = l
    end
  end
  bindings[b.name] = x
end

local steps_by_flow = {}
for _, s in ipairs(KD.steps) do
  s.has = {}
  for _, f in ipairs(s.fields) do s.has[f] = true end
  steps_by_flow[s.flow] = steps_by_flow[s.flow] or {}
  table.insert(steps_by_flow[s.flow], s)
end

-- ---- the step ------------------------------------------------------------------------------------

-- An occurrence: one element found in the message, { entries = the element's entries, range =
-- TvbRange of its value, text = its value as text (text protocols), value = a value the parser
-- already computed (contact_host, mechanism lists, option_tag) }.

-- The entry of an occurrence in a message of step s: the element's only entry, or the first whose
-- field s carries (lib/wire/fields.hpp, entry_for_step); without a step, the first.
local function step_entry(entries, s)
  if #entries == 1 or not s then return entries[1] end
  for _, e in ipairs(entries) do
    if s.has[e.field] then return e end
  end
  return nil
end

-- Whether step s explains the occurrences: each is one of s's fields (or the flow), and every
-- field of s is there.
local function explains(s, occs)
  local seen = {}
  for _, o in ipairs(occs) do
    local e = step_entry(o.entries, s)
    if not e then return false end
    if e.field ~= "flow" then
      if not s.has[e.field] then return false end
      seen[e.field] = true
    end
  end
  for _, f in ipairs(s.fields) do
    if not seen[f] then return false end
  end
  return true
end

-- The one step of the flow (either when nil) that explains the occurrences, or nil.
local function find_step(flow, occs)
  local found
  for _, fl in ipairs({ "proxied", "direct" }) do
    if flow == nil or flow == fl then
      for _, s in ipairs(steps_by_flow[fl] or {}) do
        if explains(s, occs) then
          if found then return nil end
          found = s
        end
      end
    end
  end
  return found
end

-- ---- values ----------------------------------------------------------------------------------------

-- range:range(offset, len), kept inside range: an empty value at the very end of a message still
-- gets a (zero-length) place.
local function part(range, offset, len)
  offset = math.max(math.min(offset, range:len() - 1), 0)
  return range:range(offset, math.max(math.min(len, range:len() - offset), 0))
end

local function trim_range(range, text)
  local a = text:find("%S")
  if not a then return range, "" end
  local b = #text - (text:reverse():find("%S")) + 1
  return range:range(a - 1, b - a + 1), text:sub(a, b)
end

local function unquote(range, text)
  if #text >= 2 and text:sub(1, 1) == '"' and text:sub(-1) == '"' then
    if #text == 2 then return range, "" end
    return range:range(1, #text - 2), text:sub(2, -2)
  end
  return range, text
end

local function uint64_of_decimal(text)
  if not text:match("^%d+$") or #text > 19 or (#text > 1 and text:sub(1, 1) == "0") then return nil end
  local v = UInt64(0)
  for i = 1, #text do v = v * 10 + tonumber(text:sub(i, i)) end
  return v
end

-- RFC 3329 q-values in thousandths, and back as kd writes them (1, 0, or 0. and up to three digits).
local function q_of(text)
  local i, d = text:match("^%s*(%d)%.?(%d*)%s*$")
  if not i or #d > 3 then return nil end
  local q = tonumber(i) * 1000 + tonumber((d .. "000"):sub(1, 3))
  if q > 1000 then return nil end
  return q
end
local function q_text(q)
  if q >= 1000 then return "1" elseif q == 0 then return "0" end
  return (("0.%03d"):format(q):gsub("0+$", ""))
end

-- A mechanism list shown one way whatever the binding wrote: "name;q=x, name;q=x".
local function mech_list_text(mechs)
  local parts = {}
  for _, m in ipairs(mechs) do parts[#parts + 1] = m.name .. ";q=" .. q_text(m.q) end
  return table.concat(parts, ", ")
end

-- "tls;q=0.9" (RFC 3329 entry; other parameters ignored, no q is 1), or nil.
local function parse_mech(entry)
  local name, params = entry:match("^%s*([^;%s]+)%s*(.-)%s*$")
  if not name then return nil end
  local q = 1000
  for p in params:gmatch(";%s*([^;]*)") do
    local qv = p:match("^[qQ]%s*=%s*(.-)%s*$")
    if qv then
      q = q_of(qv)
      if not q then return nil end
    end
  end
  return { name = name, q = q }
end

local function parse_mech_list(text)  -- comma-separated entries
  local mechs = {}
  for entry in (text .. ","):gmatch("([^,]*),") do
    if entry:find("%S") then
      local m = parse_mech(entry)
      if not m then return nil end
      mechs[#mechs + 1] = m
    end
  end
  return mechs
end

local function parse_quoted_mech_list(text)  -- [ "entry", "entry" ]
  local inner = text:match("^%s*%[(.*)%]%s*$")
  if not inner then return nil end
  local mechs = {}
  for entry in inner:gmatch('"([^"]*)"') do
    local m = parse_mech(entry)
    if not m then return nil end
    mechs[#mechs + 1] = m
  end
  return mechs
end

local function parse_mech_octets(range)  -- per mechanism: name length (u8), name, q (u16)
  local mechs, i, n = {}, 0, range:len()
  while i < n do
    local l = range(i, 1):uint()
    if i + 1 + l + 2 > n then return nil end
    mechs[#mechs + 1] = { name = range(i + 1, l):raw(), q = range(i + 1 + l, 2):uint() }
    i = i + 1 + l + 2
  end
  return mechs
end

-- Adds the value of occurrence o, read as entry e, to the KD tree t.
local function add_value(t, e, o)
  local info = field_info[e.field]
  local f = pf[info.name]
  local form, range, text = e.form, o.range, o.text
  local item
  local function bad(why)
    local it = t:add(range, info.label .. ": " .. (text and text:gsub("[^\32-\126]", "?") or "?"))
    it:add_proto_expert_info(ex_bad_value, e.element .. " is not " .. why)
  end
  if text then range, text = trim_range(range, text) end
  if form == "quoted" or form == "quoted_hex" then range, text = unquote(range, text) end
  if form == "string_octets" then text = range:raw() end
  -- KD values are printable ASCII (kd-protocol(7), FIELD FORMATS); anything else is shown escaped.
  if info.type == "string" and text and text:find("[^\32-\126]") then return bad("printable ASCII") end

  if form == "hex" or form == "quoted_hex" then
    if #text == 0 or #text % 2 ~= 0 or text:find("[^0-9a-f]") then return bad("lowercase hex") end
    item = t:add_packet_field(f, range, ENC_STR_HEX + ENC_SEP_NONE)
  elseif form == "octets" then
    item = t:add(f, range)
  elseif form == "hidden_octets" then
    item = t:add(range, info.label .. ": hidden (" .. e.element .. ")")
  elseif form == "decimal" then
    local v = uint64_of_decimal(text)
    if not v then return bad("a decimal number") end
    item = t:add(f, range, v)
  elseif form == "u64_octets" then
    if range:len() ~= 8 then return bad("8 octets") end
    item = t:add(f, range, range:uint64())
  elseif form == "true_flag" then
    if text:lower() ~= "true" then return bad("true") end
    item = t:add(f, range, true)
  elseif form == "on_off" then
    if text:upper() ~= "ON" and text:upper() ~= "OFF" then return bad("ON or OFF") end
    item = t:add(f, range, text:upper() == "ON")
  elseif form == "flag_octet" then
    if range:len() ~= 1 or range:uint() ~= 1 then return bad("the octet 01") end
    item = t:add(f, range, true)
  elseif form == "option_tag" then
    item = t:add(f, range, true)
  elseif form == "mech_list" or form == "quoted_mech_list" or form == "mech_octets" then
    local mechs = o.mechs
    if not mechs then
      if form == "mech_list" then mechs = parse_mech_list(text)
      elseif form == "quoted_mech_list" then mechs = parse_quoted_mech_list(text)
      else mechs = parse_mech_octets(range) end
    end
    if not mechs or #mechs == 0 then return bad("a mechanism list") end
    item = t:add(f, range, mech_list_text(mechs))
  else  -- flow, token, quoted, contact_host, string_octets: the text itself
    if form == "flow" and text ~= KD.flows[1] and text ~= KD.flows[2] then return bad("a flow") end
    item = t:add(f, range, text)
  end
  if e.field ~= info.label and info.name == "ts" then item:append_text(" (" .. e.field .. ")") end
  return item
end

-- The text of a flow occurrence, or nil.
local function carried_flow(occs)
  for _, o in ipairs(occs) do
    if o.entries[1].field == "flow" and o.text then
      local _, text = trim_range(o.range, o.text)
      return text
    end
  end
  return nil
end

-- The step shown in each frame, for the Info column: the post-dissector writes it, as H.225.0
-- sets its Info after its nonStandardData has been dissected.
local shown = {}

-- Shows one message's KD values: a "KD" tree over range with kd.step, kd.flow and the values in
-- wire order. step: the step the message names itself (H.323), else found from the values.
local function show(tree, pinfo, range, occs, step)
  if #occs == 0 then return end
  local flow = carried_flow(occs)
  local s = step or find_step(flow, occs)
  local t = tree:add(kd, range)
  if s then
    t:append_text(", " .. s.name .. " (" .. s.flow .. ")")
    t:add(pf.step, range, s.name):set_generated()
    if not flow then t:add(pf.flow, range, s.flow):set_generated() end
    shown[pinfo.number] = s.name
  else
    t:add_proto_expert_info(ex_no_step)
  end
  -- A fallback entry (SIP's kd-ipc) is read whenever present and then stands for its field.
  local fallback_of = {}
  for _, o in ipairs(occs) do
    local e = step_entry(o.entries, s)
    if e and e.fallback then fallback_of[e.field] = true end
  end
  for _, o in ipairs(occs) do
    local e = step_entry(o.entries, s) or o.entries[1]
    if e.fallback or not fallback_of[e.field] then add_value(t, e, o) end
  end
end

-- ---- text helpers --------------------------------------------------------------------------------

-- The lines of s up to the first empty one (the header section; all of s without one), as
-- { start, stop } (1-based, stop excludes the line end).
local function header_lines(s)
  local lines, i, n = {}, 1, #s
  while i <= n and (s:sub(i, i) == "\r" or s:sub(i, i) == "\n") do i = i + 1 end
  while i <= n do
    local nl = s:find("\n", i, true)
    local stop = nl or (n + 1)
    local e = stop - 1
    if e >= i and s:sub(e, e) == "\r" then e = e - 1 end
    if e < i then break end  -- the empty line
    lines[#lines + 1] = { start = i, stop = e + 1 }
    if not nl then break end
    i = nl + 1
  end
  return lines
end

-- ---- SIP (RFC 3261) ----------------------------------------------------------------------------

local sip_compact = { m = "contact", i = "call-id", f = "from", t = "to", v = "via", l = "content-length",
                      c = "content-type", e = "content-encoding", k = "supported", s = "subject" }

-- The headers of a SIP message: { name (lower case, compact forms expanded), vstart, vstop } with
-- folded lines joined; value(h) is its text with line ends as spaces, so positions are kept.
local function sip_headers(s, lines)
  local headers = {}
  for i = 2, #lines do
    local l = lines[i]
    local c = s:sub(l.start, l.start)
    if (c == " " or c == "\t") and #headers > 0 then
      headers[#headers].vstop = l.stop
    else
      local name, vstart = s:match("^([^:%s]+)[ \t]*:[ \t]*()", l.start)
      if name then
        name = name:lower()
        headers[#headers + 1] = { name = sip_compact[name] or name, vstart = vstart, vstop = l.stop }
      end
    end
  end
  return headers
end

local function sip_value(s, h) return (s:sub(h.vstart, h.vstop - 1):gsub("[\r\n]", " ")) end

-- The authentication parameters of a header value: scheme (or nil) and { name, vstart, vstop }
-- (positions in v).
local function auth_params(v)
  local scheme
  local i = v:match("^%s*()")
  local tok, after = v:match("^([%w%-%.!%%%*_%+`'~]+)%s+()", i)
  if tok and v:sub(after, after) ~= "=" then scheme, i = tok, after end
  local params = {}
  while i <= #v do
    i = v:match("^[%s,]*()", i)
    if i > #v then break end
    local name, p = v:match("^([^=%s,]+)%s*=%s*()", i)
    if not name then
      i = (v:find(",", i, true) or #v) + 1  -- not a parameter: skip to the next comma
    else
      local vs, ve
      if v:sub(p, p) == '"' then
        local j = p + 1
        while j <= #v and v:sub(j, j) ~= '"' do
          if v:sub(j, j) == "\\" then j = j + 1 end
          j = j + 1
        end
        vs, ve = p, math.min(j, #v)
      else
        vs = p
        ve = (v:find("[%s,]", p) or (#v + 1)) - 1
      end
      params[#params + 1] = { name = name:lower(), vstart = vs, vstop = ve + 1 }
      i = ve + 1
    end
  end
  return scheme, params
end

local function sip_kind(start_line)
  if start_line:match("^[Rr][Ee][Gg][Ii][Ss][Tt][Ee][Rr]%s") then return "register" end
  local code = start_line:match("^SIP/2%.0%s+(%d%d%d)")
  if code == "401" or code == "407" then return "challenge" end
  if code == "200" then return "ok" end
  return nil
end

local function in_kind(e, kind)
  if not e.sip_in then return true end
  for _, k in ipairs(e.sip_in) do if k == kind then return true end end
  return false
end

local function dissect_sip(tree, pinfo, range)
  local b = bindings.sip
  local s = range:raw()  -- bytes as they are: positions in s are offsets in range
  local lines = header_lines(s)
  if #lines == 0 then return end
  local kind = sip_kind(s:sub(lines[1].start, lines[1].stop - 1))
  if not kind then return end
  local headers = sip_headers(s, lines)
  local function r(a, stop) return part(range, a - 1, stop - a) end

  -- The KD header: a holder with the scheme KD, or one whose parameters name the flow (the
  -- schemeless Authentication-Info).
  local holder = {}
  for _, h in ipairs(b.holders) do holder[h:lower()] = true end
  local flow_element
  for _, e in ipairs(b.entries) do if e.field == "flow" then flow_element = e.element:lower() end end
  local kd_header, kd_params
  for _, h in ipairs(headers) do
    if holder[h.name] and not kd_header then
      local scheme, params = auth_params(sip_value(s, h))
      local names_flow = false
      for _, p in ipairs(params) do if p.name == flow_element then names_flow = true end end
      if (scheme and scheme:upper() == "KD") or (not scheme and names_flow) then kd_header, kd_params = h, params end
    end
  end
  if not kd_header then return end

  local occs = {}
  local v = sip_value(s, kd_header)
  for _, p in ipairs(kd_params) do
    local entries = b.by_element[p.name]
    if entries and entries[1].place == "param" then
      local a = kd_header.vstart + p.vstart - 1
      occs[#occs + 1] = { entries = entries, range = r(a, a + p.vstop - p.vstart), text = v:sub(p.vstart, p.vstop - 1) }
    end
  end

  -- The header entries, in the message kinds their table entry names: the first Contact, every
  -- Security-Client or Security-Verify (one list), a Require that lists sec-agree.
  local found = {}  -- element -> its occurrence
  for _, h in ipairs(headers) do
    local entries = b.by_element[h.name]
    local live = {}
    for _, e in ipairs(entries or {}) do
      if e.place == "header" and in_kind(e, kind) then live[#live + 1] = e end
    end
    local form = live[1] and live[1].form
    local value = sip_value(s, h)
    if form == "contact_host" and not found[h.name] then
      -- the URI's host and port: after its last "@", before ";" or "?"
      local lt = value:find("<", 1, true)
      local us = lt and lt + 1 or value:match("^%s*()")
      local ue = (value:find(lt and ">" or "[;,%s]", us) or (#value + 1)) - 1
      local uri = value:sub(us, ue)
      local hs = (uri:match(".*@()") or uri:match("^%a[%w%+%-%.]*:()") or 1)
      local he = (uri:find("[;?]", hs) or (#uri + 1)) - 1
      local a = h.vstart + (us - 1) + (hs - 1)
      found[h.name] = { entries = live, range = r(a, a + he - hs + 1), text = uri:sub(hs, he) }
      occs[#occs + 1] = found[h.name]
    elseif form == "option_tag" and not found[h.name] then
      for at, tag in value:gmatch("()([^,%s]+)") do
        if tag:lower() == "sec-agree" then
          local a = h.vstart + at - 1
          found[h.name] = { entries = live, range = r(a, a + #tag) }
          occs[#occs + 1] = found[h.name]
          break
        end
      end
    elseif form == "mech_list" then
      local mechs = parse_mech_list(value) or {}
      if found[h.name] then
        for _, m in ipairs(mechs) do table.insert(found[h.name].mechs, m) end
      else
        found[h.name] = { entries = live, range = r(h.vstart, h.vstop), text = value, mechs = mechs }
        occs[#occs + 1] = found[h.name]
      end
    end
  end
  show(tree, pinfo, range, occs)
end

-- ---- MGCP (RFC 3435): parameter lines "name: value" ----------------------------------------------

local function dissect_mgcp(tree, pinfo, range)
  local b = bindings.mgcp
  local s = range:raw()  -- bytes as they are: positions in s are offsets in range
  local occs = {}
  local lines = header_lines(s)
  for i = 2, #lines do
    local l = lines[i]
    local name, vstart = s:match("^([^:%s]+)[ \t]*:()", l.start)
    local entries = name and vstart <= l.stop and b.by_element[name:lower()]
    if entries then
      occs[#occs + 1] = { entries = entries, range = part(range, vstart - 1, l.stop - vstart),
                          text = s:sub(vstart, l.stop - 1) }
    end
  end
  show(tree, pinfo, range, occs)
end

-- ---- H.248 / MEGACO text (RFC 3525 Annex B) -----------------------------------------------------

-- Tokens: words, quoted strings, lists [...], and the punctuation { } = , ; comments skipped.
local function megaco_tokens(s)
  local toks, i, n = {}, 1, #s
  while i <= n do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c == ";" then
      i = (s:find("\n", i, true) or n) + 1
    elseif c == "{" or c == "}" or c == "=" or c == "," then
      toks[#toks + 1] = { kind = c, a = i, b = i }
      i = i + 1
    elseif c == '"' then
      local j = s:find('"', i + 1, true) or n
      toks[#toks + 1] = { kind = "value", a = i, b = j }
      i = j + 1
    elseif c == "[" then
      local j = s:find("]", i + 1, true) or n
      toks[#toks + 1] = { kind = "value", a = i, b = j }
      i = j + 1
    else
      local j = (s:find('[%s{}=,;"%[]', i) or (n + 1)) - 1
      toks[#toks + 1] = { kind = "word", a = i, b = j }
      i = j + 1
    end
  end
  return toks
end

-- The kd items: "X-<NAME> = v" (ServiceChange extension), "<package>/<name> = v" (property), and
-- "<name> = v" inside a descriptor "<package>/<event> { ... }" (event parameter).
local function dissect_megaco(tree, pinfo, range)
  local b = bindings.h248
  local s = range:raw()  -- bytes as they are: positions in s are offsets in range
  local pkg = (b.holders[1] or ""):lower() .. "/"
  local toks = megaco_tokens(s)
  local occs, blocks = {}, {}  -- blocks: per open "{", whether it is a package descriptor
  for k, tok in ipairs(toks) do
    local word = tok.kind == "word" and s:sub(tok.a, tok.b) or nil
    if tok.kind == "{" then
      local prev, before = toks[k - 1], toks[k - 2]
      local opener = prev and prev.kind == "word" and not (before and before.kind == "=") and s:sub(prev.a, prev.b)
      blocks[#blocks + 1] = opener and opener:lower():sub(1, #pkg) == pkg or false
    elseif tok.kind == "}" then
      blocks[#blocks] = nil
    elseif word and toks[k + 1] and toks[k + 1].kind == "=" and toks[k + 2] and
           (toks[k + 2].kind == "word" or toks[k + 2].kind == "value") then
      local lw, element = word:lower(), nil
      if lw:sub(1, #pkg) == pkg then element = lw:sub(#pkg + 1)
      elseif lw:sub(1, 2) == "x-" then element = lw:sub(3)
      elseif blocks[#blocks] then element = lw end
      local entries = element and b.by_element[element]
      if entries then
        local v = toks[k + 2]
        occs[#occs + 1] = { entries = entries, range = part(range, v.a - 1, v.b - v.a + 1), text = s:sub(v.a, v.b) }
      end
    end
  end
  show(tree, pinfo, range, occs)
end

-- ---- H.323 RAS: the nonStandardData under kd's object ---------------------------------------------

-- data: "KD1", the flow octet, the step octet, then TLVs (tag u8, length u16, value) by tag.
local function dissect_h323(tvb, pinfo, tree)
  local b = bindings.h323
  if tvb:len() < 5 or tvb(0, 3):raw() ~= "KD1" then return 0 end
  local flow = KD.flows[tvb(3, 1):uint()]
  local number = tvb(4, 1):uint()
  local step
  for _, s in ipairs(steps_by_flow[flow] or {}) do if s.number == number then step = s end end
  local occs, i, n = {}, 5, tvb:len()
  while i + 3 <= n do
    local tag, len = tvb(i, 1):uint(), tvb(i + 1, 2):uint()
    if i + 3 + len > n then break end
    local entries = (b.by_number.tlv or {})[tag]
    if entries then
      local vr = len > 0 and tvb(i + 3, len) or tvb(i + 1, 2)
      occs[#occs + 1] = { entries = entries, range = vr }
    end
    i = i + 3 + len
  end
  show(tree, pinfo, tvb(), occs, step)
  return n
end

-- ---- RADIUS (RFC 2865): attributes and the Vendor-Specific sub-attributes of kd's vendor ----------

local VENDOR_SPECIFIC = 26

local function dissect_radius(tree, pinfo, range)
  local b = bindings.radius
  local n = range:len()
  if n < 20 then return end
  n = math.min(n, range(2, 2):uint())
  local attrs = b.by_number.attribute or {}
  local subs = b.by_number.vendor_attribute or {}
  local occs, i = {}, 20
  while i + 2 <= n do
    local type, len = range(i, 1):uint(), range(i + 1, 1):uint()
    if len < 2 or i + len > n then break end
    if type == VENDOR_SPECIFIC and len >= 6 and range(i + 2, 4):uint() == b.vendor_id then
      local j = i + 6
      while j + 2 <= i + len do
        local st, sl = range(j, 1):uint(), range(j + 1, 1):uint()
        if sl < 2 or j + sl > i + len then break end
        if subs[st] and sl > 2 then occs[#occs + 1] = { entries = subs[st], range = range(j + 2, sl - 2) } end
        j = j + sl
      end
    elseif attrs[type] and len > 2 then
      occs[#occs + 1] = { entries = attrs[type], range = range(i + 2, len - 2) }
    end
    i = i + len
  end
  show(tree, pinfo, range, occs)
end

-- ---- hooking into Wireshark --------------------------------------------------------------------------

-- SIP, MGCP, MEGACO and RADIUS: after Wireshark's own dissector, over each message it found (so
-- whatever port, transport or Decode As brought it there); H.323: as the dissector of kd's object.
local text_dissectors = { sip = dissect_sip, mgcp = dissect_mgcp, megaco = dissect_megaco, radius = dissect_radius }
local protocol_items = {}
for name in pairs(text_dissectors) do protocol_items[name] = Field.new(name) end

function kd.dissector(tvb, pinfo, tree)
  for name, items in pairs(protocol_items) do
    for _, fi in ipairs({ items() }) do
      text_dissectors[name](tree, pinfo, fi.range)
    end
  end
  if shown[pinfo.number] then pinfo.cols.info:append(" [KD " .. shown[pinfo.number] .. "]") end
end
register_postdissector(kd)

local h323 = Proto("kd.h323", "KD in H.225.0 nonStandardData")
h323.dissector = dissect_h323
for _, object in ipairs(bindings.h323.holders) do
  DissectorTable.get("h225.nsp.object"):add(object, h323)
end

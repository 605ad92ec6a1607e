#include "nn/io/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "nn/io/error.h"

namespace agilenn {

namespace {
const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::Null:
      return "null";
    case Json::Type::Bool:
      return "bool";
    case Json::Type::Number:
      return "number";
    case Json::Type::String:
      return "string";
    case Json::Type::Array:
      return "array";
    case Json::Type::Object:
      return "object";
  }
  return "?";
}
Error type_error(const std::string& what, const char* want, Json::Type got) {
  return Error(what + ": expected " + want + ", got " + type_name(got));
}
}  // namespace

double Json::as_number(const std::string& what) const {
  if (type_ != Type::Number) throw type_error(what, "number", type_);
  return num_;
}
int64_t Json::as_int(const std::string& what) const {
  double v = as_number(what);
  if (!(std::fabs(v) <= 9007199254740992.0) || v != std::floor(v))
    throw Error(what + ": expected an integer, got " + std::to_string(v));
  return int64_t(v);
}
bool Json::as_bool(const std::string& what) const {
  if (type_ != Type::Bool) throw type_error(what, "bool", type_);
  return bool_;
}
const std::string& Json::as_string(const std::string& what) const {
  if (type_ != Type::String) throw type_error(what, "string", type_);
  return str_;
}
const Json::Array& Json::as_array(const std::string& what) const {
  if (type_ != Type::Array) throw type_error(what, "array", type_);
  return arr_;
}
const Json::Object& Json::as_object(const std::string& what) const {
  if (type_ != Type::Object) throw type_error(what, "object", type_);
  return obj_;
}

Json& Json::operator[](const std::string& key) {
  if (type_ == Type::Null) type_ = Type::Object;
  if (type_ != Type::Object) throw type_error(key, "object", type_);
  for (auto& kv : obj_)
    if (kv.first == key) return kv.second;
  obj_.emplace_back(key, Json());
  return obj_.back().second;
}
const Json* Json::find(const std::string& key) const {
  if (type_ != Type::Object) return nullptr;
  for (auto& kv : obj_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}
const Json& Json::at(const std::string& key) const {
  if (type_ != Type::Object) throw type_error(key, "object", type_);
  const Json* j = find(key);
  if (!j) throw Error("missing field '" + key + "'");
  return *j;
}
void Json::push_back(Json v) {
  if (type_ == Type::Null) type_ = Type::Array;
  if (type_ != Type::Array) throw type_error("push_back", "array", type_);
  arr_.push_back(std::move(v));
}
size_t Json::size() const {
  if (type_ == Type::Array) return arr_.size();
  if (type_ == Type::Object) return obj_.size();
  return 0;
}

static void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

void Json::dump_to(std::string& out, int indent, int level) const {
  auto newline = [&](int lvl) {
    if (indent < 0) return;
    out += '\n';
    out.append(size_t(indent * lvl), ' ');
  };
  switch (type_) {
    case Type::Null:
      out += "null";
      break;
    case Type::Bool:
      out += bool_ ? "true" : "false";
      break;
    case Type::Number: {
      if (!std::isfinite(num_)) {
        out += "null";
        break;
      }  // JSON has no NaN/Inf
      char buf[32];
      if (num_ == std::floor(num_) && std::fabs(num_) < 1e15)
        std::snprintf(buf, sizeof buf, "%.0f", num_);
      else
        std::snprintf(buf, sizeof buf, "%.10g", num_);
      out += buf;
      break;
    }
    case Type::String:
      dump_string(out, str_);
      break;
    case Type::Array:
      out += '[';
      for (size_t i = 0; i < arr_.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        arr_[i].dump_to(out, indent, level + 1);
      }
      if (!arr_.empty()) newline(level);
      out += ']';
      break;
    case Type::Object:
      out += '{';
      for (size_t i = 0; i < obj_.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        dump_string(out, obj_[i].first);
        out += indent < 0 ? ":" : ": ";
        obj_[i].second.dump_to(out, indent, level + 1);
      }
      if (!obj_.empty()) newline(level);
      out += '}';
      break;
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

namespace {
class Parser {
 public:
  Parser(const std::string& t, const std::string& src) : t_(t), src_(src) {}
  Json parse_document() {
    Json v = value(0);
    ws();
    if (i_ != t_.size()) fail("trailing characters after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    size_t line = 1, col = 1;
    for (size_t k = 0; k < i_ && k < t_.size(); ++k) {
      if (t_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw Error(src_ + ": line " + std::to_string(line) + ", column " + std::to_string(col) + ": " +
                msg);
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\t' || t_[i_] == '\r'))
      ++i_;
  }
  bool lit(const char* s) {
    size_t n = std::char_traits<char>::length(s);
    if (t_.compare(i_, n, s) == 0) {
      i_ += n;
      return true;
    }
    return false;
  }
  Json value(int depth) {
    if (depth > 256) fail("nesting deeper than 256");
    ws();
    if (i_ >= t_.size()) fail("unexpected end of input");
    char c = t_[i_];
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json(string());
    if (lit("true")) return Json(true);
    if (lit("false")) return Json(false);
    if (lit("null")) return Json();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail(std::string("unexpected character '") + c + "'");
  }
  Json number() {
    size_t start = i_;
    if (t_[i_] == '-') ++i_;
    auto digits = [&] {
      size_t s = i_;
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
      return i_ > s;
    };
    if (!digits()) fail("malformed number");
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (!digits()) fail("malformed number");
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (!digits()) fail("malformed number");
    }
    return Json(std::strtod(t_.substr(start, i_ - start).c_str(), nullptr));
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80)
      out += char(cp);
    else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (i_ + 4 > t_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = t_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= unsigned(h - '0');
      else if (h >= 'a' && h <= 'f')
        v |= unsigned(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v |= unsigned(h - 'A' + 10);
      else
        fail("bad hex digit in \\u escape");
    }
    return v;
  }
  std::string string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= t_.size()) fail("unterminated string");
      char c = t_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) fail("unterminated escape");
      char e = t_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < t_.size() && t_[i_] == '\\' &&
              t_[i_ + 1] == 'u') {
            i_ += 2;
            unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default:
          fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }
  Json array(int depth) {
    ++i_;
    Json a = Json::array();
    ws();
    if (i_ < t_.size() && t_[i_] == ']') {
      ++i_;
      return a;
    }
    while (true) {
      a.push_back(value(depth + 1));
      ws();
      if (i_ >= t_.size()) fail("unterminated array");
      if (t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (t_[i_] == ']') {
        ++i_;
        return a;
      }
      fail("expected ',' or ']' in array");
    }
  }
  Json object(int depth) {
    ++i_;
    Json o = Json::object();
    ws();
    if (i_ < t_.size() && t_[i_] == '}') {
      ++i_;
      return o;
    }
    while (true) {
      ws();
      if (i_ >= t_.size() || t_[i_] != '"') fail("expected a string key in object");
      std::string key = string();
      if (o.contains(key)) fail("duplicate key '" + key + "'");
      ws();
      if (i_ >= t_.size() || t_[i_] != ':') fail("expected ':' after object key");
      ++i_;
      o[key] = value(depth + 1);
      ws();
      if (i_ >= t_.size()) fail("unterminated object");
      if (t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (t_[i_] == '}') {
        ++i_;
        return o;
      }
      fail("expected ',' or '}' in object");
    }
  }
  const std::string& t_;
  const std::string& src_;
  size_t i_ = 0;
};
}  // namespace

Json Json::parse(const std::string& text, const std::string& source) {
  return Parser(text, source).parse_document();
}

}  // namespace agilenn

// A small JSON value: parse (with line/column errors and a depth limit) and dump.
// Objects keep insertion order so written files read the way they were built.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace agilenn {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(int v) : type_(Type::Number), num_(v) {}
  Json(long v) : type_(Type::Number), num_(double(v)) {}
  Json(long long v) : type_(Type::Number), num_(double(v)) {}
  Json(unsigned v) : type_(Type::Number), num_(v) {}
  Json(unsigned long v) : type_(Type::Number), num_(double(v)) {}
  Json(unsigned long long v) : type_(Type::Number), num_(double(v)) {}
  Json(double v) : type_(Type::Number), num_(v) {}
  Json(float v) : type_(Type::Number), num_(v) {}
  Json(const char* s) : type_(Type::String), str_(s) {}
  Json(std::string s) : type_(Type::String), str_(std::move(s)) {}
  Json(Array a) : type_(Type::Array), arr_(std::move(a)) {}

  static Json object() {
    Json j;
    j.type_ = Type::Object;
    return j;
  }
  static Json array() {
    Json j;
    j.type_ = Type::Array;
    return j;
  }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_object() const { return type_ == Type::Object; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_bool() const { return type_ == Type::Bool; }

  // Typed access; `what` names the field in the error message.
  double as_number(const std::string& what = "value") const;
  int64_t as_int(const std::string& what = "value") const;  // must be integral
  bool as_bool(const std::string& what = "value") const;
  const std::string& as_string(const std::string& what = "value") const;
  const Array& as_array(const std::string& what = "value") const;
  const Object& as_object(const std::string& what = "value") const;

  // Object access. operator[] inserts (object or null becomes object); at() throws naming the key.
  Json& operator[](const std::string& key);
  const Json& at(const std::string& key) const;
  const Json* find(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  void push_back(Json v);
  size_t size() const;

  // Compact when indent < 0, else pretty with `indent` spaces.
  std::string dump(int indent = -1) const;
  // Throws agilenn::Error "<source>: line L, column C: ..." on malformed input.
  static Json parse(const std::string& text, const std::string& source = "json");

 private:
  void dump_to(std::string& out, int indent, int level) const;
  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0;
  std::string str_;
  Array arr_;
  Object obj_;
};

}  // namespace agilenn

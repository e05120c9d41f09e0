#include "message/binary_parts.h"

#include <vector>

#include "base/strings.h"
#include "message/codec.h"
#include "message/mime.h"

namespace postern::message {
namespace {

constexpr std::string_view kField = "Content-Transfer-Encoding";

// One change to the raw message: [begin, end) becomes `text` (CRLF form).
struct Edit {
  size_t begin = 0;
  size_t end = 0;
  std::string text;
};

class Encoder {
 public:
  explicit Encoder(std::string_view raw) : raw_(raw), message_(ParseMessage(raw)) {}

  Result<std::string> Run() {
    PT_RETURN_IF_ERROR(Collect(message_.root));
    std::string out;
    out.reserve(raw_.size() + raw_.size() / 3);
    size_t cursor = 0;
    for (const Edit& edit : edits_) {
      PT_RETURN_IF_ERROR(Copy(cursor, edit.begin, &out));
      out += edit.text;
      cursor = edit.end;
    }
    PT_RETURN_IF_ERROR(Copy(cursor, raw_.size(), &out));
    return out;
  }

 private:
  // Octets outside the re-encoded bodies: copied in CRLF form, never NUL.
  Status Copy(size_t begin, size_t end, std::string* out) const {
    std::string_view bytes = raw_.substr(begin, end - begin);
    if (bytes.find('\0') != std::string_view::npos) {
      return InvalidArgument("NUL octets outside a part's content");
    }
    out->append(ToCrlf(bytes));
    return Status::Ok();
  }

  Status Collect(const Part& part) {
    const bool binary = EqualsIgnoreCase(part.transfer_encoding, "binary");
    if (part.multipart || part.embedded) {
      // RFC 2045 §6.4: a container's encoding is an identity; once its
      // binary parts are base64 it holds 8-bit text at most.
      if (binary) SetEncoding(part, "8bit");
      for (const Part& child : part.children) PT_RETURN_IF_ERROR(Collect(child));
      return Status::Ok();
    }
    std::string_view body = message_.BodyBytes(part);
    const bool has_nul = body.find('\0') != std::string_view::npos;
    if (!binary && !has_nul) return Status::Ok();
    const std::string& cte = part.transfer_encoding;
    if (!binary && !cte.empty() && !EqualsIgnoreCase(cte, "7bit") &&
        !EqualsIgnoreCase(cte, "8bit")) {
      return InvalidArgument("NUL octets in a part encoded as " + SanitizeForLog(cte));
    }
    const bool header_ended = SetEncoding(part, "base64");
    std::string text = header_ended || body.empty() ? std::string() : std::string("\r\n");
    text += EncodeBase64(body);
    edits_.push_back(Edit{part.body_begin, part.body_end, std::move(text)});
    return Status::Ok();
  }

  // Replaces the part's Content-Transfer-Encoding field, or adds one at the
  // end of its header. Returns false when the header had no empty line
  // before the body, which the caller then supplies.
  bool SetEncoding(const Part& part, std::string_view encoding) {
    const std::string field = std::string(kField) + ": " + std::string(encoding);
    size_t fields_end = part.header_begin;
    for (const HeaderField& f : part.fields) {
      const size_t value_end = static_cast<size_t>(f.value.data() - raw_.data()) + f.value.size();
      if (EqualsIgnoreCase(f.name, kField)) {
        edits_.push_back(Edit{f.offset, value_end, field});
        return HasBlankLine(part);
      }
      fields_end = value_end;
    }
    std::string text = field + "\r\n";
    if (!part.fields.empty()) {
      // After the last field's line break (or supply one).
      if (fields_end < raw_.size() && raw_[fields_end] == '\r') ++fields_end;
      if (fields_end < raw_.size() && raw_[fields_end] == '\n') ++fields_end;
      if (fields_end == part.body_begin && !raw_.substr(0, fields_end).ends_with('\n')) {
        text = "\r\n" + text;
      }
    }
    edits_.push_back(Edit{fields_end, fields_end, std::move(text)});
    return HasBlankLine(part);
  }

  // Whether the header ends with an empty line before the body starts.
  bool HasBlankLine(const Part& part) const {
    std::string_view header = message_.HeaderBytes(part);
    return header == "\r\n" || header == "\n" || header.ends_with("\n\r\n") ||
           header.ends_with("\n\n");
  }

  std::string_view raw_;
  Message message_;
  std::vector<Edit> edits_;  // in increasing order of position
};

}  // namespace

Result<std::string> EncodeBinaryParts(std::string_view raw) { return Encoder(raw).Run(); }

}  // namespace postern::message

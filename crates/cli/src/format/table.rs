//! Column alignment with elastic tabstops, as Go's `text/tabwriter` does
//! for podman's tables.
//!
//! Text is cut into lines and each line into cells at tab characters. A
//! cell ended by a tab belongs to a column; the last cell of a line does
//! not, so it is never padded. A column runs down consecutive lines that
//! have a cell in it, and is as wide as its widest cell plus the padding,
//! but never narrower than the minimum width. Widths count characters.

/// Settings of an aligning writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabWriter {
    /// Narrowest column, padding included.
    pub min_width: usize,
    /// Spaces added after the widest cell of a column.
    pub padding: usize,
}

impl TabWriter {
    /// podman's tables (`report.NewWriterDefault`: minwidth 12, padding 2,
    /// padded with spaces).
    pub const PODMAN: TabWriter = TabWriter {
        min_width: 12,
        padding: 2,
    };

    /// Aligns the tab-separated cells of `text`.
    pub fn align(&self, text: &str) -> String {
        let lines: Vec<Vec<&str>> = text.split('\n').map(|line| line.split('\t').collect()).collect();
        let mut aligner = Aligner {
            settings: *self,
            lines: &lines,
            widths: Vec::new(),
            out: String::with_capacity(text.len() * 2),
        };
        aligner.format(0, lines.len());
        aligner.out
    }
}

struct Aligner<'a> {
    settings: TabWriter,
    lines: &'a [Vec<&'a str>],
    /// Widths of the columns to the left of the one being measured.
    widths: Vec<usize>,
    out: String,
}

fn cell_width(cell: &str) -> usize {
    cell.chars().count()
}

impl Aligner<'_> {
    /// Lays out lines `start..end`, whose columns left of `self.widths.len()`
    /// are already measured.
    fn format(&mut self, start: usize, end: usize) {
        let column = self.widths.len();
        let mut printed_to = start;
        let mut line = start;
        while line < end {
            if column + 1 >= self.lines[line].len() {
                line += 1;
                continue;
            }
            // A block of lines having a cell in this column starts here.
            self.write_lines(printed_to, line);
            let block_start = line;
            let mut width = self.settings.min_width;
            while line < end && column + 1 < self.lines[line].len() {
                width = width.max(cell_width(self.lines[line][column]) + self.settings.padding);
                line += 1;
            }
            self.widths.push(width);
            self.format(block_start, line);
            self.widths.pop();
            printed_to = line;
        }
        self.write_lines(printed_to, end);
    }

    fn write_lines(&mut self, start: usize, end: usize) {
        for index in start..end {
            let cells = &self.lines[index];
            for (j, cell) in cells.iter().enumerate() {
                self.out.push_str(cell);
                if let Some(width) = self.widths.get(j) {
                    let pad = width.saturating_sub(cell_width(cell));
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            // The last line is text after the final newline: no newline.
            if index + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_with_min_width_and_padding() {
        let text = "ID\tVALUE\nc061a0839e\tone\n1eb6fab5aa8f4b5cbfd3e66aa35e9b2a\tthree\n";
        assert_eq!(
            TabWriter::PODMAN.align(text),
            "ID                                VALUE\n\
             c061a0839e                        one\n\
             1eb6fab5aa8f4b5cbfd3e66aa35e9b2a  three\n"
        );
    }

    #[test]
    fn short_cells_take_the_minimum_width_and_last_cell_is_not_padded() {
        assert_eq!(TabWriter::PODMAN.align("a\tb\n"), "a           b\n");
        assert_eq!(TabWriter::PODMAN.align("a\t\n"), "a           \n");
    }

    #[test]
    fn a_line_with_fewer_cells_ends_the_column_block() {
        let text = "aaaaaaaaaaaaaaaa\tx\nno tabs\nb\ty\n";
        assert_eq!(
            TabWriter::PODMAN.align(text),
            "aaaaaaaaaaaaaaaa  x\nno tabs\nb           y\n"
        );
    }

    #[test]
    fn text_without_final_newline_is_kept() {
        assert_eq!(TabWriter::PODMAN.align("a\tb"), "a           b");
        assert_eq!(TabWriter::PODMAN.align(""), "");
    }

    proptest::proptest! {
        /// Every row of a uniform table puts each column at the same
        /// character offset, one at least `min_width` and `padding` past the
        /// previous column's widest cell.
        #[test]
        fn uniform_rows_align(rows in proptest::collection::vec(proptest::collection::vec("[a-zé ]{0,15}", 3), 1..6)) {
            let text: String = rows.iter().map(|cells| cells.join("\t") + "\n").collect();
            let aligned = TabWriter::PODMAN.align(&text);
            let lines: Vec<&str> = aligned.lines().collect();
            proptest::prop_assert_eq!(lines.len(), rows.len());
            let mut start = 0;
            for column in 0..2 {
                let widest = rows.iter().map(|cells| cells[column].chars().count()).max().unwrap_or(0);
                let width = (widest + 2).max(12);
                for (line, cells) in lines.iter().zip(&rows) {
                    let chars: Vec<char> = line.chars().collect();
                    let cell: String = chars[start..start + width].iter().collect();
                    proptest::prop_assert_eq!(cell.trim_end_matches(' '), cells[column].trim_end_matches(' '));
                }
                start += width;
            }
            for (line, cells) in lines.iter().zip(&rows) {
                let last: String = line.chars().skip(start).collect();
                proptest::prop_assert_eq!(&last, &cells[2]);
            }
        }
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        assert_eq!(
            TabWriter {
                min_width: 0,
                padding: 1
            }
            .align("é\tx\nab\ty\n"),
            "é  x\nab y\n"
        );
    }
}
